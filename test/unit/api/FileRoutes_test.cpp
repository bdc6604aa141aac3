// The apiserver's file routes over real HTTP, against a real fsserver (src/fs FileServer) in the
// same process: signed upload URL -> PUT -> complete (row) -> signed download URL -> GET -> delete.
#if MEETING_TEST_WITH_FS
#include <openssl/evp.h>

#include <sqlite3.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <future>

#include "ApiFixture.hpp"
#include "common/AccessToken.hpp"
#include "fs/FileServer.hpp"

namespace meeting::api::test {
namespace {

std::string sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char Hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) out += {Hex[digest[i] >> 4], Hex[digest[i] & 15]};
  return out;
}

// A FileServer with the cluster secret on its own HTTP server.
class InProcessFs {
 public:
  InProcessFs() {
    static std::atomic<int> n{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("meeting-api-fs-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    fs::FileServerOptions options;
    options.secret = Secret;
    options.directory = dir_.string();
    auto created = fs::FileServer::create(options, SystemClock::instance());
    EXPECT_TRUE(created) << (created ? "" : created.error().message);
    server_ = std::move(*created);
    server_->registerRoutes(router_);
    http_ = std::make_unique<TestHttpServer>(router_);
  }
  ~InProcessFs() {
    http_.reset();
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(http_->port()); }
  fs::FileServer& server() { return *server_; }

 private:
  std::filesystem::path dir_;
  net::HttpRouter router_;
  std::unique_ptr<fs::FileServer> server_;
  std::unique_ptr<TestHttpServer> http_;
};

class FileRoutes : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r1"}}).status, 201);
    ASSERT_EQ(post("/api/v1/rooms", {{"room_id", "r2"}}).status, 201);
  }
  void TearDown() override {
    node_.reset();
    fs_.reset();
    ApiFixture::TearDown();
  }

  // Starts the fsserver and registers it on the control link as node "fs-1" (built-in allocator).
  void startFs() {
    fs_ = std::make_unique<InProcessFs>();
    node_ = std::make_unique<FakeNode>(*hub_, control::NodeInfo{"fs-1", "fs", fs_->base(), "", 100});
    for (int i = 0; i < 300 && registry_->list("fs").empty(); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_FALSE(registry_->list("fs").empty());
  }

  std::string roomToken(const std::string& room, const std::string& peer, bool admin = false) {
    token::AccessClaims claims;
    claims.room = room;
    claims.identity = peer;
    claims.grants.roomAdmin = admin;
    claims.issuedAt = clock_.wallMicros() / 1'000'000;
    claims.expiresAt = claims.issuedAt + 3600;
    auto jwt = token::signAccessToken(claims, Secret);
    EXPECT_TRUE(jwt);
    return *jwt;
  }

  static Reply raw(http::verb method, const std::string& url, const std::string& body = {},
                   std::map<std::string, std::string> headers = {}) {
    net::HttpClientOptions options;
    options.timeout = 10s;
    options.headers = std::move(headers);
    auto r = net::httpRequest(method, url, body, options);
    Reply reply;
    if (!r) {
      ADD_FAILURE() << r.error().message;
      return reply;
    }
    reply.status = r->result_int();
    reply.raw = r->body();
    reply.body = json::parse(r->body(), nullptr, false);
    return reply;
  }

  json uploadRequest(const std::string& data, const std::string& type = "text/plain") {
    return {{"name", "notes é.txt"}, {"content_type", type}, {"size", data.size()}};
  }

  std::unique_ptr<InProcessFs> fs_;
  std::unique_ptr<FakeNode> node_;
};

TEST_F(FileRoutes, RoundTripWithARoomToken) {
  startFs();
  const std::string data = "Minutes of the standup\n" + std::string(100'000, 'x') + "\nend\n";
  const std::string ada = roomToken("r1", "ada");

  auto created = call(http::verb::post, "/api/v1/rooms/r1/files", uploadRequest(data).dump(), ada);
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string id = created.body["file_id"];
  const std::string uploadUrl = created.body["upload_url"];
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(uploadUrl.rfind(fs_->base() + "/fs/v1/files/" + id + "?op=upload&", 0), 0u) << uploadUrl;
  EXPECT_NE(uploadUrl.find("&max=" + std::to_string(data.size()) + "&"), std::string::npos);
  const int64_t expiresAt = created.body["expires_at"];
  EXPECT_NEAR(expiresAt, clock_.wallMicros() / 1000 + 600'000, 5'000);

  // Not listed before the bytes are stored and the upload completed.
  EXPECT_EQ(call(http::verb::get, "/api/v1/rooms/r1/files", {}, ada).body["files"].size(), 0u);
  auto early = call(http::verb::post, "/api/v1/files/" + id + "/complete", "{}", ada);
  EXPECT_EQ(early.status, 409) << early.raw;
  EXPECT_EQ(early.body["error"]["code"], "upload_incomplete");

  // A byte more than granted is refused by the fsserver.
  EXPECT_EQ(raw(http::verb::put, uploadUrl, data + "!", {{"Content-Type", "text/plain"}}).status, 413);
  auto put = raw(http::verb::put, uploadUrl, data, {{"Content-Type", "text/plain"}});
  ASSERT_EQ(put.status, 201) << put.raw;

  auto done = call(http::verb::post, "/api/v1/files/" + id + "/complete", "{}", ada);
  ASSERT_EQ(done.status, 201) << done.raw;
  EXPECT_EQ(done.body["file"]["sha256"], sha256Hex(data));
  EXPECT_EQ(done.body["file"]["size"], data.size());
  EXPECT_EQ(done.body["file"]["room_id"], "r1");
  EXPECT_EQ(done.body["file"]["name"], "notes é.txt");
  EXPECT_EQ(done.body["file"]["content_type"], "text/plain");
  EXPECT_EQ(done.body["file"]["uploader"], "ada");
  auto again = call(http::verb::post, "/api/v1/files/" + id + "/complete", "{}", ada);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["file"]["id"], id);

  // The row is in the files collection.
  auto row = storage_->getFile(id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->sha256, sha256Hex(data));
  EXPECT_EQ(row->fsNode, fs_->base());

  auto listed = call(http::verb::get, "/api/v1/rooms/r1/files", {}, ada);
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.body["files"].size(), 1u);
  EXPECT_EQ(listed.body["files"][0]["id"], id);
  EXPECT_EQ(get("/api/v1/rooms/r2/files").body["files"].size(), 0u);

  auto info = call(http::verb::get, "/api/v1/files/" + id, {}, ada);
  ASSERT_EQ(info.status, 200) << info.raw;
  const std::string downloadUrl = info.body["download_url"];
  auto bytes = raw(http::verb::get, downloadUrl);
  ASSERT_EQ(bytes.status, 200);
  EXPECT_EQ(bytes.raw.size(), data.size());
  EXPECT_EQ(sha256Hex(bytes.raw), sha256Hex(data));
  // The upload URL does not download, and the download URL does not upload.
  EXPECT_EQ(raw(http::verb::get, uploadUrl).status, 403);
  EXPECT_EQ(raw(http::verb::put, downloadUrl, "x", {{"Content-Type", "text/plain"}}).status, 403);

  // Only the uploader (or a room admin, or an API key) deletes.
  EXPECT_EQ(call(http::verb::delete_, "/api/v1/files/" + id, {}, roomToken("r1", "bob")).status, 403);
  EXPECT_EQ(call(http::verb::delete_, "/api/v1/files/" + id, {}, ada).status, 204);
  EXPECT_EQ(call(http::verb::get, "/api/v1/files/" + id, {}, ada).status, 404);
  EXPECT_EQ(call(http::verb::delete_, "/api/v1/files/" + id, {}, ada).status, 404);
  EXPECT_EQ(raw(http::verb::get, downloadUrl).status, 404);  // the bytes are gone too
  EXPECT_FALSE(fs_->server().store().find(id));
  EXPECT_EQ(call(http::verb::get, "/api/v1/rooms/r1/files", {}, ada).body["files"].size(), 0u);
  auto tomb = storage_->getFile(id);
  ASSERT_TRUE(tomb);
  EXPECT_NE(tomb->deletedAt, 0);
}

TEST_F(FileRoutes, ApiKeyUploadAndAdminDelete) {
  startFs();
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(64, '\0');
  auto created = post("/api/v1/rooms/r2/files", uploadRequest(png, "image/png"));
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string id = created.body["file_id"];
  ASSERT_EQ(raw(http::verb::put, created.body["upload_url"], png, {{"Content-Type", "image/png"}}).status, 201);
  auto done = post("/api/v1/files/" + id + "/complete", json::object());
  ASSERT_EQ(done.status, 201) << done.raw;
  EXPECT_EQ(done.body["file"]["uploader"], "api-key:test");
  EXPECT_EQ(done.body["file"]["content_type"], "image/png");
  EXPECT_EQ(call(http::verb::delete_, "/api/v1/files/" + id, {}, roomToken("r2", "boss", true)).status, 204);
}

TEST_F(FileRoutes, TokensOfAnotherRoomAreRefusedAndBadTokensUnauthorized) {
  startFs();
  const std::string data = "hello";
  auto created = call(http::verb::post, "/api/v1/rooms/r1/files", uploadRequest(data).dump(), roomToken("r1", "ada"));
  ASSERT_EQ(created.status, 201);
  const std::string id = created.body["file_id"];
  const std::string other = roomToken("r2", "eve", /*admin=*/true);

  EXPECT_EQ(call(http::verb::post, "/api/v1/rooms/r1/files", uploadRequest(data).dump(), other).status, 403);
  EXPECT_EQ(call(http::verb::get, "/api/v1/rooms/r1/files", {}, other).status, 403);
  EXPECT_EQ(call(http::verb::post, "/api/v1/files/" + id + "/complete", "{}", other).status, 403);
  ASSERT_EQ(raw(http::verb::put, created.body["upload_url"], data, {{"Content-Type", "text/plain"}}).status, 201);
  EXPECT_EQ(call(http::verb::post, "/api/v1/files/" + id + "/complete", "{}", other).status, 403);
  ASSERT_EQ(call(http::verb::post, "/api/v1/files/" + id + "/complete", "{}", roomToken("r1", "ada")).status, 201);
  EXPECT_EQ(call(http::verb::get, "/api/v1/files/" + id, {}, other).status, 403);
  EXPECT_EQ(call(http::verb::delete_, "/api/v1/files/" + id, {}, other).status, 403);
  EXPECT_TRUE(fs_->server().store().find(id));

  // Missing, forged, expired and wrong-audience credentials: 401.
  std::string forged = roomToken("r1", "ada");
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  token::AccessClaims old;
  old.room = "r1";
  old.identity = "ada";
  old.issuedAt = clock_.wallMicros() / 1'000'000 - 7200;
  old.expiresAt = old.issuedAt + 3600;
  auto expired = token::signAccessToken(old, Secret);
  ASSERT_TRUE(expired);
  auto control = control::makeControlToken(Secret, "fs-1", "fs", clock_.wallMicros() / 1'000'000);
  ASSERT_TRUE(control);
  for (const std::string& key : {std::string(), forged, *expired, *control, std::string("a.b.c")}) {
    EXPECT_EQ(call(http::verb::post, "/api/v1/rooms/r1/files", uploadRequest(data).dump(), key).status, 401) << key;
    EXPECT_EQ(call(http::verb::get, "/api/v1/files/" + id, {}, key).status, 401) << key;
  }
  // A room token opens only the file routes.
  EXPECT_EQ(call(http::verb::get, "/api/v1/rooms/r1", {}, roomToken("r1", "ada")).status, 401);
}

// Issue 8: complete confirms the bytes on the fsserver; bytes whose upload is never completed are
// removed by the fsserver once the URL's expiry plus its grace has passed, quota included.
TEST_F(FileRoutes, UploadsNeverCompletedAreRemovedByTheFileServer) {
  startFs();
  auto upload = [&](const std::string& data) {
    auto created = post("/api/v1/rooms/r1/files", uploadRequest(data));
    EXPECT_EQ(created.status, 201) << created.raw;
    EXPECT_EQ(raw(http::verb::put, created.body["upload_url"], data, {{"Content-Type", "text/plain"}}).status, 201);
    return std::make_pair(created.body["file_id"].get<std::string>(), created.body["expires_at"].get<int64_t>() / 1000);
  };
  const std::string done = upload("completed").first;
  auto [orphan, orphanExpiry] = upload("never completed");
  ASSERT_EQ(post("/api/v1/files/" + done + "/complete", json::object()).status, 201);

  auto& store = fs_->server().store();
  EXPECT_EQ(store.find(done)->confirmBy, 0);
  const int64_t bound = store.find(orphan)->confirmBy;
  // Beyond the apiserver's own window for complete (one hour after the URL expired).
  EXPECT_GT(bound, orphanExpiry + 3600);
  EXPECT_EQ(bound, orphanExpiry + fs::FileServerOptions{}.confirmGraceSeconds);
  EXPECT_EQ(store.sweepUnconfirmed(bound - 1), 0u);
  EXPECT_EQ(store.sweepUnconfirmed(bound), 1u);
  EXPECT_TRUE(store.find(done));
  EXPECT_FALSE(store.find(orphan));
  EXPECT_EQ(store.roomUsage("r1"), 9u);
  // A complete after the sweep finds no bytes: no row is written.
  auto late = post("/api/v1/files/" + orphan + "/complete", json::object());
  EXPECT_EQ(late.status, 409) << late.raw;
  EXPECT_EQ(late.body["error"]["code"], "upload_incomplete");
  EXPECT_FALSE(storage_->getFile(orphan));
  EXPECT_EQ(get("/api/v1/rooms/r1/files").body["files"].size(), 1u);
}

// Issue 8 gap 1: the uploader is the signed subject of the upload URL. Changed or added as a
// plain parameter it is 403 at the fsserver; both records name the authenticated caller.
TEST_F(FileRoutes, UploaderIdentityIsSignedIntoTheUploadUrl) {
  startFs();
  const std::string data = "who wrote this";
  const std::string ada = roomToken("r1", "ada");
  auto created = call(http::verb::post, "/api/v1/rooms/r1/files", uploadRequest(data).dump(), ada);
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string id = created.body["file_id"];
  const std::string url = created.body["upload_url"];
  ASSERT_NE(url.find("&sub=ada&"), std::string::npos) << url;
  EXPECT_EQ(url.find("&by="), std::string::npos) << url;
  std::string bob = url;
  bob.replace(bob.find("&sub=ada&"), 9, "&sub=bob&");
  EXPECT_EQ(raw(http::verb::put, bob, data, {{"Content-Type", "text/plain"}}).status, 403);
  EXPECT_EQ(raw(http::verb::put, url + "&by=bob", data, {{"Content-Type", "text/plain"}}).status, 403);
  EXPECT_FALSE(fs_->server().store().find(id));
  ASSERT_EQ(raw(http::verb::put, url, data, {{"Content-Type", "text/plain"}}).status, 201);
  EXPECT_EQ(fs_->server().store().find(id)->uploader, "ada");
  auto done = call(http::verb::post, "/api/v1/files/" + id + "/complete", "{}", ada);
  ASSERT_EQ(done.status, 201) << done.raw;
  EXPECT_EQ(done.body["file"]["uploader"], "ada");
  EXPECT_EQ(storage_->getFile(id)->uploader, "ada");
  // An API key's uploads are signed for the key.
  auto byKey = post("/api/v1/rooms/r1/files", uploadRequest(data));
  ASSERT_EQ(byKey.status, 201);
  EXPECT_NE(byKey.body["upload_url"].get<std::string>().find("&sub=api-key%3Atest&"), std::string::npos)
      << byKey.body["upload_url"];
}

// Issue 8 gap 2: the fsserver confirmed the upload but the database refuses the row. The bytes are
// deleted on the fsserver at once, no row exists, and the client is told to upload again; once
// the database works again the same file goes through.
TEST_F(FileRoutes, ARowThatCannotBeWrittenLeavesNoFileBehind) {
  startFs();
  const std::string data = "recorded or gone";
  auto created = post("/api/v1/rooms/r1/files", uploadRequest(data));
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string id = created.body["file_id"];
  ASSERT_EQ(raw(http::verb::put, created.body["upload_url"], data, {{"Content-Type", "text/plain"}}).status, 201);
  ASSERT_TRUE(fs_->server().store().find(id));

  // The failure injected at the database itself: every insert into files aborts.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "t.db").c_str(), &db), SQLITE_OK);
  auto exec = [db](const char* sql) {
    char* message = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
    EXPECT_EQ(rc, SQLITE_OK) << (message ? message : "");
    sqlite3_free(message);
  };
  sqlite3_busy_timeout(db, 5000);
  exec("CREATE TRIGGER fail_files BEFORE INSERT ON files BEGIN SELECT RAISE(ABORT, 'injected failure'); END");

  auto failed = post("/api/v1/files/" + id + "/complete", json::object());
  EXPECT_EQ(failed.status, 503) << failed.raw;
  EXPECT_FALSE(fs_->server().store().find(id));  // the confirmed bytes are gone again
  EXPECT_EQ(fs_->server().store().roomUsage("r1"), 0u);
  EXPECT_FALSE(storage_->getFile(id));
  EXPECT_EQ(get("/api/v1/rooms/r1/files").body["files"].size(), 0u);
  // The upload is over: completing it again finds nothing to complete.
  EXPECT_EQ(post("/api/v1/files/" + id + "/complete", json::object()).status, 404);

  exec("DROP TRIGGER fail_files");
  sqlite3_close(db);
  auto second = post("/api/v1/rooms/r1/files", uploadRequest(data));
  ASSERT_EQ(second.status, 201);
  ASSERT_EQ(raw(http::verb::put, second.body["upload_url"], data, {{"Content-Type", "text/plain"}}).status, 201);
  auto ok = post("/api/v1/files/" + second.body["file_id"].get<std::string>() + "/complete", json::object());
  EXPECT_EQ(ok.status, 201) << ok.raw;
  EXPECT_EQ(get("/api/v1/rooms/r1/files").body["files"].size(), 1u);
}

// Issue 8: a connection cut in the middle of the PUT leaves no file on the fsserver and no row.
TEST_F(FileRoutes, ACutUploadLeavesNoFileAndNoRow) {
  startFs();
  auto created = post("/api/v1/rooms/r1/files", uploadRequest(std::string(1 << 20, 'c')));
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string id = created.body["file_id"];
  const std::string url = created.body["upload_url"];
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    const auto port = static_cast<uint16_t>(std::stoi(fs_->base().substr(fs_->base().rfind(':') + 1)));
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    const std::string head = "PUT " + url.substr(fs_->base().size()) +
                             " HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1048576\r\n\r\n";
    boost::asio::write(socket, boost::asio::buffer(head + std::string(300'000, 'c')));
    std::this_thread::sleep_for(200ms);
  }  // cut with 700 KB missing
  for (int i = 0; i < 300 && fs_->server().store().roomUsage("r1") != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(fs_->server().store().roomUsage("r1"), 0u);
  EXPECT_FALSE(fs_->server().store().find(id));
  auto done = post("/api/v1/files/" + id + "/complete", json::object());
  EXPECT_EQ(done.status, 409) << done.raw;
  EXPECT_FALSE(storage_->getFile(id));
  EXPECT_EQ(get("/api/v1/rooms/r1/files").body["files"].size(), 0u);
}

// Issue 8 §4 through the apiserver: signed minutes URLs for the room, the save URL signed for the
// caller (the author); two saves based on the same version: one wins, one gets 409.
TEST_F(FileRoutes, MinutesUrlsForTheRoom) {
  startFs();
  const std::string ada = roomToken("r1", "ada");
  auto urls = call(http::verb::post, "/api/v1/rooms/r1/minutes", "{}", ada);
  ASSERT_EQ(urls.status, 200) << urls.raw;
  const std::string save = urls.body["save_url"], read = urls.body["read_url"], versions = urls.body["versions_url"];
  EXPECT_EQ(save.rfind(fs_->base() + "/fs/v1/rooms/r1/minutes?op=minutes-write&", 0), 0u) << save;
  EXPECT_EQ(call(http::verb::post, "/api/v1/rooms/r2/minutes", "{}", ada).status, 403);
  EXPECT_EQ(call(http::verb::post, "/api/v1/rooms/nope/minutes", "{}").status, 404);
  EXPECT_EQ(raw(http::verb::get, read).status, 404);  // no minutes yet
  ASSERT_EQ(raw(http::verb::put, save + "&base=0", "# Standup\n").status, 201);
  std::vector<std::future<int>> saves;
  for (int i = 0; i < 2; ++i) {
    saves.push_back(std::async(std::launch::async, [&, i] {
      return raw(http::verb::put, save + "&base=1", "# Standup\nedit " + std::to_string(i) + "\n").status;
    }));
  }
  std::vector<int> codes = {saves[0].get(), saves[1].get()};
  std::sort(codes.begin(), codes.end());
  EXPECT_EQ(codes, (std::vector<int>{201, 409}));
  auto latest = raw(http::verb::get, read);
  EXPECT_EQ(latest.status, 200);
  EXPECT_EQ(latest.raw.rfind("# Standup\nedit ", 0), 0u);
  auto list = raw(http::verb::get, versions);
  ASSERT_EQ(list.body["versions"].size(), 2u);
  EXPECT_EQ(list.body["versions"][0]["author"], "ada");
  EXPECT_EQ(list.body["latest"], 2);
  EXPECT_EQ(raw(http::verb::put, read + "&base=2", "x").status, 403);  // a read URL does not write
}

// Issue 8: a participant removed from the room (REST delete of the peer, or the room deleted)
// keeps an unexpired token; the file routes must refuse it (403 peer_removed), not only /rtc.
TEST_F(FileRoutes, RemovedPeersTokensAreRefused) {
  startFs();
  FakeNode sfu(*hub_, sfuInfo());
  auto added = post("/api/v1/rooms/r1/peers", {{"peer_id", "ada"}});
  ASSERT_EQ(added.status, 201) << added.raw;
  const std::string ada = added.body["token"];
  ASSERT_EQ(post("/api/v1/rooms/r1/peers", {{"peer_id", "bob"}}).status, 201);
  const std::string bob = roomToken("r1", "bob");
  const std::string data = "shared before the kick";
  auto created = call(http::verb::post, "/api/v1/rooms/r1/files", uploadRequest(data).dump(), ada);
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string id = created.body["file_id"];
  ASSERT_EQ(raw(http::verb::put, created.body["upload_url"], data, {{"Content-Type", "text/plain"}}).status, 201);

  ASSERT_EQ(del("/api/v1/rooms/r1/peers/ada").status, 204);
  // Every file route refuses ada's token now, with a code a client can act on.
  auto refused = call(http::verb::post, "/api/v1/files/" + id + "/complete", "{}", ada);
  EXPECT_EQ(refused.status, 403) << refused.raw;
  EXPECT_EQ(refused.body["error"]["code"], "peer_removed");
  EXPECT_EQ(call(http::verb::post, "/api/v1/rooms/r1/files", uploadRequest(data).dump(), ada).status, 403);
  EXPECT_EQ(call(http::verb::get, "/api/v1/rooms/r1/files", {}, ada).status, 403);
  // Other participants and API keys are not affected.
  ASSERT_EQ(call(http::verb::post, "/api/v1/files/" + id + "/complete", "{}", bob).status, 201);
  EXPECT_EQ(call(http::verb::get, "/api/v1/files/" + id, {}, ada).status, 403);
  EXPECT_EQ(call(http::verb::delete_, "/api/v1/files/" + id, {}, ada).status, 403);
  EXPECT_EQ(call(http::verb::get, "/api/v1/files/" + id, {}, bob).status, 200);
  EXPECT_EQ(get("/api/v1/files/" + id).status, 200);
  // The same identity in another room is another participant.
  EXPECT_EQ(call(http::verb::get, "/api/v1/rooms/r2/files", {}, roomToken("r2", "ada")).status, 200);

  // Added again, the participant is back (as on /rtc); its new token works.
  auto again = post("/api/v1/rooms/r1/peers", {{"peer_id", "ada"}});
  ASSERT_EQ(again.status, 201) << again.raw;
  EXPECT_EQ(call(http::verb::get, "/api/v1/rooms/r1/files", {}, again.body["token"].get<std::string>()).status, 200);

  // Deleting the room removes everyone in it.
  ASSERT_EQ(del("/api/v1/rooms/r1").status, 204);
  EXPECT_EQ(call(http::verb::get, "/api/v1/files/" + id, {}, bob).status, 403);
  EXPECT_EQ(call(http::verb::get, "/api/v1/rooms/r1/files", {}, bob).body["error"]["code"], "peer_removed");
}

// The removed set is bounded in time: an entry lives as long as a token issued before the removal.
TEST(PeerRegistry, RevocationsExpireWithTheTokensTheyCover) {
  PeerRegistry peers;
  peers.revoke("r", "ada", 1000, 1000 + 3600);
  EXPECT_TRUE(peers.isRevoked("r", "ada", 1000));
  EXPECT_TRUE(peers.isRevoked("r", "ada", 4599));
  EXPECT_FALSE(peers.isRevoked("r", "ada", 4600));
  EXPECT_FALSE(peers.isRevoked("r", "bob", 1000));
  EXPECT_FALSE(peers.isRevoked("other", "ada", 1000));
  peers.revoke("r", "bob", 1000, 2000);
  peers.unrevoke("r", "bob");
  EXPECT_FALSE(peers.isRevoked("r", "bob", 1500));
}

TEST_F(FileRoutes, ValidationAndErrors) {
  startFs();
  EXPECT_EQ(post("/api/v1/rooms/r1/files", {{"content_type", "text/plain"}, {"size", 3}}).body["error"]["field"], "name");
  EXPECT_EQ(post("/api/v1/rooms/r1/files", {{"name", "a"}, {"size", 3}}).body["error"]["field"], "content_type");
  EXPECT_EQ(post("/api/v1/rooms/r1/files", {{"name", "a"}, {"content_type", "nonsense"}, {"size", 3}}).status, 400);
  EXPECT_EQ(post("/api/v1/rooms/r1/files", {{"name", "a"}, {"content_type", "text/plain"}}).body["error"]["field"], "size");
  EXPECT_EQ(post("/api/v1/rooms/r1/files", {{"name", "a"}, {"content_type", "text/plain"}, {"size", 0}}).status, 400);
  EXPECT_EQ(post("/api/v1/rooms/r1/files", {{"name", "a"}, {"content_type", "text/plain"}, {"size", int64_t{3} << 30}}).status, 400);
  EXPECT_EQ(post("/api/v1/rooms/r1/files", {{"name", "a"}, {"content_type", "text/plain"}, {"size", 3}, {"x", 1}}).status, 400);
  EXPECT_EQ(post("/api/v1/rooms/nope/files", {{"name", "a"}, {"content_type", "text/plain"}, {"size", 3}}).status, 404);
  EXPECT_EQ(post("/api/v1/files/0123456789abcdef0123456789abcdef/complete", json::object()).status, 404);
  EXPECT_EQ(post("/api/v1/files/not-an-id/complete", json::object()).status, 400);
  EXPECT_EQ(get("/api/v1/files/0123456789abcdef0123456789abcdef").status, 404);
  EXPECT_EQ(get("/api/v1/files/..").status, 400);
  EXPECT_EQ(del("/api/v1/files/0123456789abcdef0123456789abcdef").status, 404);
  EXPECT_EQ(get("/api/v1/rooms/r1/files?limit=0").status, 400);
}

TEST_F(FileRoutes, NoFileServerIs503) {
  auto r = post("/api/v1/rooms/r1/files", {{"name", "a.txt"}, {"content_type", "text/plain"}, {"size", 3}});
  EXPECT_EQ(r.status, 503) << r.raw;
  EXPECT_FALSE(r.retryAfter.empty());
}

TEST_F(FileRoutes, InProcessFileServerIsUsedWhenNoneIsRegistered) {
  // `meeting all`: no fs node on the control link, the apiserver knows its own fsserver.
  fs_ = std::make_unique<InProcessFs>();
  RestApiOptions options;
  options.secret = Secret;
  options.localFsUrl = fs_->base() + "/";
  RestApi local(RestApiDeps{*storage_, *workers_, allocator_, *hub_, peers_, clock_}, options);
  net::HttpRouter router;
  local.registerRoutes(router);
  TestHttpServer server(router);
  const std::string data = "local";
  auto created = raw(http::verb::post, server.url("/api/v1/rooms/r1/files"), uploadRequest(data).dump(),
                     {{"Authorization", "Bearer " + apiKey_}, {"Content-Type", "application/json"}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::string url = created.body["upload_url"];
  EXPECT_EQ(url.rfind(fs_->base() + "/fs/v1/files/", 0), 0u) << url;
  ASSERT_EQ(raw(http::verb::put, url, data, {{"Content-Type", "text/plain"}}).status, 201);
  auto done = raw(http::verb::post, server.url("/api/v1/files/" + created.body["file_id"].get<std::string>() + "/complete"),
                  "{}", {{"Authorization", "Bearer " + apiKey_}, {"Content-Type", "application/json"}});
  ASSERT_EQ(done.status, 201) << done.raw;
  EXPECT_EQ(done.body["file"]["sha256"], sha256Hex(data));
}

}  // namespace
}  // namespace meeting::api::test
#endif
