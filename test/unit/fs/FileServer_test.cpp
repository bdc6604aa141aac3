// The fsserver over real HTTP on 127.0.0.1 (port 0), data on tmpfs (/dev/shm) when available.
#include "fs/FileServer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <openssl/evp.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <future>
#include <set>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>

#include "net/HttpClient.hpp"
#include "net/HttpServer.hpp"

using namespace std::chrono_literals;
namespace fs = meeting::fs;
namespace net = meeting::net;
namespace su = meeting::signedurl;
namespace http = net::http;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace stdfs = std::filesystem;
using tcp = asio::ip::tcp;

namespace {

constexpr const char* Secret = "test-secret";

std::string hexOf(const unsigned char* d, size_t n) {
  static constexpr char H[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) s += {H[d[i] >> 4], H[d[i] & 15]};
  return s;
}

struct Sha {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Sha() { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
  ~Sha() { EVP_MD_CTX_free(ctx); }
  void update(std::string_view s) { EVP_DigestUpdate(ctx, s.data(), s.size()); }
  std::string hex() {
    unsigned char d[32];
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx, d, &n);
    return hexOf(d, n);
  }
};
std::string sha256(std::string_view s) {
  Sha h;
  h.update(s);
  return h.hex();
}

std::string testRoot() {
  static std::atomic<int> n{0};
  std::string base = stdfs::exists("/dev/shm") ? "/dev/shm" : stdfs::temp_directory_path().string();
  return base + "/meeting-fs-test-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

// A FileServer behind an HttpServer on its own loop thread; restart() reopens the same directory.
class FsServer {
 public:
  explicit FsServer(fs::StoreLimits limits = {}, std::string dir = testRoot()) : dir_(std::move(dir)), limits_(limits) {
    startServer();
  }
  // Time driven by hand; uploads must be confirmed within `confirmGrace` after their URL expired.
  FsServer(const meeting::Clock& clock, int64_t confirmGrace, bool zeroCopy = true)
      : dir_(testRoot()), clock_(&clock), confirmGrace_(confirmGrace), zeroCopy_(zeroCopy) {
    startServer();
  }
  ~FsServer() {
    stopServer();
    std::error_code ec;
    stdfs::remove_all(dir_, ec);
  }
  void restart() {
    stopServer();
    startServer();
  }
  std::string url(const std::string& pathAndQuery) const {
    return "http://127.0.0.1:" + std::to_string(port_) + pathAndQuery;
  }
  uint16_t port() const { return port_; }
  const std::string& dir() const { return dir_; }
  fs::FileServer& files() { return *files_; }

 private:
  void startServer() {
    thread_ = std::make_unique<net::EventLoopThread>("fs-http");
    router_ = std::make_unique<net::HttpRouter>();
    fs::FileServerOptions o;
    o.secret = Secret;
    o.directory = dir_;
    o.limits = limits_;
    o.confirmGraceSeconds = confirmGrace_;
    auto created = fs::FileServer::create(o, *clock_);
    ASSERT_TRUE(created) << created.error().message;
    files_ = std::move(*created);
    files_->registerRoutes(*router_);
    std::promise<void> started;
    thread_->loop().post([&] {
      net::HttpServerOptions options;
      options.accessLog = false;
      options.zeroCopyFiles = zeroCopy_;
      server_ = std::make_unique<net::HttpServer>(thread_->loop(), *router_, options);
      EXPECT_TRUE(server_->start());
      started.set_value();
    });
    started.get_future().wait();
    port_ = server_->port();
  }
  void stopServer() {
    if (!server_) return;
    std::promise<void> done;
    thread_->loop().post([&] { server_->stop(1s, [&] { done.set_value(); }); });
    done.get_future().wait_for(5s);
    thread_.reset();
    server_.reset();
    files_.reset();
    router_.reset();
  }

  std::string dir_;
  fs::StoreLimits limits_;
  const meeting::Clock* clock_ = &meeting::SystemClock::instance();
  int64_t confirmGrace_ = 7200;
  bool zeroCopy_ = true;
  std::unique_ptr<net::EventLoopThread> thread_;
  std::unique_ptr<net::HttpRouter> router_;
  std::unique_ptr<fs::FileServer> files_;
  std::unique_ptr<net::HttpServer> server_;
  uint16_t port_ = 0;
};

int64_t nowSeconds() { return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count(); }

std::string grantQuery(su::Operation op, const std::string& id, const std::string& room = "room-1",
                       uint64_t max = 0, int64_t exp = 0, const std::string& secret = Secret,
                       const std::string& subject = {}) {
  su::Grant g{op, id, room, max, exp ? exp : nowSeconds() + 300, subject};
  auto q = su::sign(g, secret);
  EXPECT_TRUE(q);
  return q ? *q : std::string{};
}

std::string filePath(const std::string& id, const std::string& q) { return std::string(fs::FsPrefix) + "/files/" + id + "?" + q; }

net::HttpClientOptions withHeaders(std::map<std::string, std::string> h) {
  net::HttpClientOptions o;
  o.headers = std::move(h);
  return o;
}

// Uploads `body` under a fresh id; returns (status, response body, id).
struct UploadResult {
  unsigned status = 0;
  std::string body, id;
};
UploadResult upload(FsServer& s, const std::string& body, const std::string& type = "text/plain",
                    const std::string& room = "room-1", uint64_t max = 1 << 20, const std::string& extra = "",
                    const std::string& uploader = {}) {
  UploadResult r;
  r.id = su::newFileId();
  auto query = grantQuery(su::Operation::Upload, r.id, room, max, 0, Secret, uploader);
  auto res = net::httpRequest(http::verb::put, s.url(filePath(r.id, query) + extra),
                              body, withHeaders({{"Content-Type", type}}));
  if (res) {
    r.status = res->result_int();
    r.body = res->body();
  }
  return r;
}

net::HttpClientResponse get(FsServer& s, const std::string& id, std::map<std::string, std::string> headers = {},
                            const std::string& room = "room-1") {
  auto res = net::httpRequest(http::verb::get, s.url(filePath(id, grantQuery(su::Operation::Download, id, room))), {},
                              withHeaders(std::move(headers)));
  EXPECT_TRUE(res) << (res ? "" : res.error().message);
  return res ? *res : net::HttpClientResponse{};
}

// Sends raw bytes, returns everything until the server closes.
std::string rawExchange(uint16_t port, const std::string& bytes) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(5s);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  boost::system::error_code ec;
  asio::write(stream, asio::buffer(bytes), ec);
  std::string out;
  char buf[8192];
  for (;;) {
    size_t n = stream.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

size_t countFiles(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); it != stdfs::recursive_directory_iterator(); ++it) {
    if (it->is_regular_file()) ++n;
  }
  return n;
}

long vmRssKb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 300 && !pred(); ++i) std::this_thread::sleep_for(10ms);
  return pred();
}

// Deterministic bytes for large transfers, generated piece by piece.
struct ByteStream {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  void fill(char* out, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      std::memcpy(out + i, &state, std::min<size_t>(8, n - i));
    }
  }
};

}  // namespace

TEST(FileServer, UploadDownloadAndMetadataSurviveRestart) {
  FsServer s;
  std::string body = "hello minutes\n";
  auto up = upload(s, body, "text/plain; charset=utf-8", "room-1", 1 << 20, "&name=notes.txt", "alice");
  ASSERT_EQ(up.status, 201u) << up.body;
  auto meta = nlohmann::json::parse(up.body);
  EXPECT_EQ(meta["sha256"], sha256(body));
  EXPECT_EQ(meta["size"], body.size());
  EXPECT_EQ(meta["content_type"], "text/plain");
  EXPECT_EQ(meta["name"], "notes.txt");
  EXPECT_EQ(meta["uploader"], "alice");
  EXPECT_EQ(meta["room"], "room-1");
  EXPECT_TRUE(stdfs::exists(s.dir() + "/files/" + up.id + ".json"));
  s.restart();
  auto res = get(s, up.id);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), body);
  EXPECT_EQ(res[http::field::content_type], "text/plain");
  EXPECT_EQ(res[http::field::etag], "\"" + sha256(body) + "\"");
  EXPECT_EQ(res[http::field::content_disposition], "attachment; filename=\"notes.txt\"");
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(res[http::field::accept_ranges], "bytes");
  // The same id cannot be uploaded twice.
  auto again = net::httpRequest(http::verb::put, s.url(filePath(up.id, grantQuery(su::Operation::Upload, up.id, "room-1", 100))),
                                "x", withHeaders({{"Content-Type", "text/plain"}}));
  EXPECT_EQ(again->result_int(), 409);
}

TEST(FileServer, SignaturesAre403AndChangeNothing) {
  FsServer s;
  auto up = upload(s, "keep me");
  ASSERT_EQ(up.status, 201u);
  const size_t before = countFiles(s.dir());
  auto id = up.id, fresh = su::newFileId();
  auto good = grantQuery(su::Operation::Download, id);
  std::string tampered = good;
  tampered.replace(tampered.find("room=room-1"), 11, "room=room-2");
  const std::vector<std::pair<std::string, std::pair<http::verb, std::string>>> cases = {
      {"missing", {http::verb::get, filePath(id, "")}},
      {"expired", {http::verb::get, filePath(id, grantQuery(su::Operation::Download, id, "room-1", 0, nowSeconds() - 1))}},
      {"tampered", {http::verb::get, filePath(id, tampered)}},
      {"other secret", {http::verb::get, filePath(id, grantQuery(su::Operation::Download, id, "room-1", 0, 0, "nope"))}},
      {"upload URL used to download", {http::verb::get, filePath(id, grantQuery(su::Operation::Upload, id, "room-1", 100))}},
      {"download URL used to delete", {http::verb::delete_, filePath(id, good)}},
      {"download URL used to upload", {http::verb::put, filePath(fresh, grantQuery(su::Operation::Download, fresh))}},
      {"URL for another id", {http::verb::get, filePath(fresh, good)}},
      {"delete without signature", {http::verb::delete_, filePath(id, "")}},
      {"upload without signature", {http::verb::put, filePath(fresh, "")}},
      {"room of another file", {http::verb::get, filePath(id, grantQuery(su::Operation::Download, id, "room-2"))}},
  };
  for (const auto& [what, req] : cases) {
    auto res = net::httpRequest(req.first, s.url(req.second), "data", withHeaders({{"Content-Type", "text/plain"}}));
    ASSERT_TRUE(res) << what;
    EXPECT_EQ(res->result_int(), 403) << what << ": " << res->body();
  }
  EXPECT_EQ(countFiles(s.dir()), before);
  EXPECT_EQ(get(s, id).body(), "keep me");
}

// Gap 1 of issue 8: the uploader (and a minutes author) is the signed subject of the URL. Changing
// it, dropping it or adding an unsigned `by` is 403 and stores nothing; the record names the
// subject the apiserver signed.
TEST(FileServer, UploaderIsTheSignedSubject) {
  FsServer s;
  auto id = su::newFileId();
  const auto signedQ = grantQuery(su::Operation::Upload, id, "room-1", 100, 0, Secret, "alice@example.com");
  ASSERT_NE(signedQ.find("&sub=alice%40example.com&"), std::string::npos) << signedQ;
  std::string renamed = signedQ, dropped = signedQ;
  renamed.replace(renamed.find("sub=alice"), 9, "sub=mallo");
  dropped.erase(dropped.find("&sub="), dropped.find("&sig=") - dropped.find("&sub="));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"subject changed", renamed},
      {"subject dropped", dropped},
      {"unsigned by added", signedQ + "&by=mallory"},
      {"subject given twice", signedQ + "&sub=mallory"},
      {"empty subject added to a grant without one", grantQuery(su::Operation::Upload, id, "room-1", 100) + "&sub="},
  };
  for (const auto& [what, q] : cases) {
    auto res = net::httpRequest(http::verb::put, s.url(filePath(id, q)), "data", withHeaders({{"Content-Type", "text/plain"}}));
    ASSERT_TRUE(res) << what;
    EXPECT_EQ(res->result_int(), 403) << what << ": " << res->body();
  }
  EXPECT_EQ(countFiles(s.dir()), 0u);
  auto ok = net::httpRequest(http::verb::put, s.url(filePath(id, signedQ) + "&name=a.txt"), "data",
                             withHeaders({{"Content-Type", "text/plain"}}));
  ASSERT_EQ(ok->result_int(), 201) << ok->body();
  EXPECT_EQ(nlohmann::json::parse(ok->body())["uploader"], "alice@example.com");
  EXPECT_EQ(s.files().store().find(id)->uploader, "alice@example.com");
  // Minutes: the author is the subject too.
  const std::string minutes = std::string(fs::FsPrefix) + "/rooms/room-1/minutes?";
  auto writeQ = grantQuery(su::Operation::MinutesWrite, "minutes", "room-1", 1 << 20, 0, Secret, "bob");
  auto forged = net::httpRequest(http::verb::put, s.url(minutes + writeQ + "&base=0&by=mallory"), "# x\n");
  EXPECT_EQ(forged->result_int(), 403);
  auto saved = net::httpRequest(http::verb::put, s.url(minutes + writeQ + "&base=0"), "# x\n");
  ASSERT_EQ(saved->result_int(), 201) << saved->body();
  EXPECT_EQ(nlohmann::json::parse(saved->body())["author"], "bob");
}

TEST(FileServer, TraversalAttemptsChangeNothing) {
  FsServer s;
  stdfs::create_directories(s.dir() + "/outside");
  const std::vector<std::string> ids = {"..", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "..%2Foutside%2Fx",
                                        "0123456789abcdef0123456789abcde%00", "%2e%2e", "..%5c..%5cx",
                                        "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcdef%2F.."};
  for (const auto& id : ids) {
    for (const char* method : {"PUT", "GET", "DELETE"}) {
      // Sign whatever the attacker would like the id to be; the server must still refuse.
      std::string q = "op=upload&id=" + id + "&room=room-1&max=100&exp=" + std::to_string(nowSeconds() + 60) + "&sig=x";
      std::string req = std::string(method) + " /fs/v1/files/" + id + "?" + q +
                        " HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\nevil";
      auto text = rawExchange(s.port(), req);
      auto status = text.substr(9, 3);
      EXPECT_TRUE(status == "400" || status == "403" || status == "404" || status == "405") << id << " " << method << ": " << text.substr(0, 60);
    }
  }
  // A room name that is a path is refused at signing and at verification alike.
  EXPECT_FALSE(su::sign(su::Grant{su::Operation::Upload, su::newFileId(), "../x", 10, nowSeconds() + 60, {}}, Secret));
  EXPECT_EQ(countFiles(s.dir()), 0u);
  EXPECT_FALSE(stdfs::exists("/etc/passwd.json"));
}

TEST(FileServer, TypeSizeAndQuotaLimits) {
  fs::StoreLimits limits;
  limits.roomQuotaBytes = 1000;
  limits.totalQuotaBytes = 1500;
  FsServer s(limits);
  EXPECT_EQ(upload(s, "<html><script>", "text/html").status, 415u);
  EXPECT_EQ(upload(s, "<svg onload=x>", "image/svg+xml").status, 415u);
  EXPECT_EQ(upload(s, "not a png at all", "image/png").status, 415u);
  EXPECT_EQ(upload(s, "\x89PNG\r\n\x1a\n....", "image/png").status, 201u);
  EXPECT_EQ(upload(s, std::string(200, 'x'), "text/plain", "room-1", 100).status, 413u);  // the URL's limit
  EXPECT_EQ(upload(s, std::string(900, 'x'), "text/plain", "room-1", 10000).status, 201u);
  EXPECT_EQ(upload(s, std::string(200, 'x'), "text/plain", "room-1", 10000).status, 507u);  // room quota
  EXPECT_EQ(upload(s, std::string(500, 'x'), "text/plain", "room-2", 10000).status, 201u);
  EXPECT_EQ(upload(s, std::string(300, 'x'), "text/plain", "room-3", 10000).status, 507u);  // total quota
  EXPECT_EQ(countFiles(s.dir() + "/tmp"), 0u);
  EXPECT_EQ(countFiles(s.dir() + "/files"), 6u);  // three files and their sidecars
}

TEST(FileServer, RangesAndConditionalGet) {
  FsServer s;
  std::string body;
  for (int i = 0; i < 1000; ++i) body += static_cast<char>('a' + i % 26);
  auto up = upload(s, body);
  ASSERT_EQ(up.status, 201u);
  auto one = get(s, up.id, {{"Range", "bytes=10-19"}});
  EXPECT_EQ(one.result_int(), 206);
  EXPECT_EQ(one.body(), body.substr(10, 10));
  EXPECT_EQ(one[http::field::content_range], "bytes 10-19/1000");
  auto suffix = get(s, up.id, {{"Range", "bytes=-5"}});
  EXPECT_EQ(suffix.result_int(), 206);
  EXPECT_EQ(suffix.body(), body.substr(995));
  auto multi = get(s, up.id, {{"Range", "bytes=0-2,-3"}});
  EXPECT_EQ(multi.result_int(), 206);
  std::string type(multi[http::field::content_type]);
  ASSERT_EQ(type.rfind("multipart/byteranges; boundary=", 0), 0u) << type;
  std::string boundary = type.substr(type.find('=') + 1);
  std::string expected = "--" + boundary + "\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-2/1000\r\n\r\nabc\r\n--" +
                         boundary + "\r\nContent-Type: text/plain\r\nContent-Range: bytes 997-999/1000\r\n\r\n" +
                         body.substr(997) + "\r\n--" + boundary + "--\r\n";
  EXPECT_EQ(multi.body(), expected);
  auto bad = get(s, up.id, {{"Range", "bytes=1000-"}});
  EXPECT_EQ(bad.result_int(), 416);
  EXPECT_EQ(bad[http::field::content_range], "bytes */1000");
  auto ignored = get(s, up.id, {{"Range", "bytes=5-1"}});
  EXPECT_EQ(ignored.result_int(), 200);
  EXPECT_EQ(ignored.body(), body);
  const std::string etag = "\"" + sha256(body) + "\"";
  auto staleIfRange = get(s, up.id, {{"Range", "bytes=0-0"}, {"If-Range", "\"old\""}});
  EXPECT_EQ(staleIfRange.result_int(), 200);
  auto goodIfRange = get(s, up.id, {{"Range", "bytes=0-0"}, {"If-Range", etag}});
  EXPECT_EQ(goodIfRange.result_int(), 206);
  auto notModified = get(s, up.id, {{"If-None-Match", etag}});
  EXPECT_EQ(notModified.result_int(), 304);
  EXPECT_TRUE(notModified.body().empty());
  EXPECT_EQ(notModified[http::field::etag], etag);
  EXPECT_EQ(get(s, up.id, {{"If-None-Match", "\"other\""}}).result_int(), 200);
  // HEAD: the headers of the GET, no body.
  auto head = rawExchange(s.port(), "HEAD " + filePath(up.id, grantQuery(su::Operation::Download, up.id)) +
                                        " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(head.find("Content-Length: 1000\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("abcdef"), std::string::npos);
}

TEST(FileServer, ContentDispositionOfHostileNames) {
  FsServer s;
  auto up = upload(s, "x", "text/plain", "room-1", 100, "&name=..%2F..%2Fa%22b%0D%0AX-Evil%3A%201.txt");
  ASSERT_EQ(up.status, 201u) << up.body;
  auto res = get(s, up.id);
  std::string cd(res[http::field::content_disposition]);
  EXPECT_EQ(cd.rfind("attachment; filename=\"a_bX-Evil: 1.txt\"", 0), 0u) << cd;
  EXPECT_TRUE(res["Content-Security-Policy"].find("sandbox") != std::string::npos);
}

TEST(FileServer, DeleteIsPermanent) {
  FsServer s;
  auto up = upload(s, "bye");
  ASSERT_EQ(up.status, 201u);
  auto del = net::httpRequest(http::verb::delete_, s.url(filePath(up.id, grantQuery(su::Operation::Delete, up.id))));
  EXPECT_EQ(del->result_int(), 204);
  EXPECT_EQ(get(s, up.id).result_int(), 404);
  s.restart();
  EXPECT_EQ(get(s, up.id).result_int(), 404);
  EXPECT_EQ(countFiles(s.dir()), 0u);
  EXPECT_EQ(s.files().store().roomUsage("room-1"), 0u);
}

TEST(FileServer, CutUploadLeavesNothingAndTempIsCleanedOnStart) {
  FsServer s;
  auto id = su::newFileId();
  {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.port()));
    std::string head = "PUT " + filePath(id, grantQuery(su::Operation::Upload, id, "room-1", 10 << 20)) +
                       " HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5000000\r\n\r\n";
    asio::write(stream, asio::buffer(head + std::string(1 << 20, 'p')));
    ASSERT_TRUE(eventually([&] { return countFiles(s.dir() + "/tmp") == 1; }));
  }  // cut with 4 MB missing
  EXPECT_TRUE(eventually([&] { return countFiles(s.dir() + "/tmp") == 0; }));
  EXPECT_EQ(get(s, id).result_int(), 404);
  EXPECT_EQ(countFiles(s.dir() + "/files"), 0u);
  EXPECT_EQ(s.files().store().roomUsage("room-1"), 0u);
  // A killed process leaves its temporary behind, and a crash between the two renames leaves
  // bytes without a sidecar: the next start removes both.
  std::ofstream(s.dir() + "/tmp/" + id + ".7") << "partial";
  std::ofstream(s.dir() + "/files/" + su::newFileId()) << "orphan bytes";
  s.restart();
  EXPECT_EQ(countFiles(s.dir()), 0u);
}

TEST(FileServer, MinutesVersionsAndConflict) {
  FsServer s;
  const std::string room = "room-9";
  auto url = [&](su::Operation, const std::string& extra) {
    return s.url(std::string(fs::FsPrefix) + "/rooms/" + room + "/minutes" + extra);
  };
  auto readQ = grantQuery(su::Operation::MinutesRead, "minutes", room);
  auto writeQ = grantQuery(su::Operation::MinutesWrite, "minutes", room, 1 << 20, 0, Secret, "ann");
  EXPECT_EQ(net::httpRequest(http::verb::get, url(su::Operation::MinutesRead, "?" + readQ))->result_int(), 404);
  auto v1 = net::httpRequest(http::verb::put, url(su::Operation::MinutesWrite, "?" + writeQ + "&base=0"), "# Minutes\n");
  ASSERT_EQ(v1->result_int(), 201) << v1->body();
  EXPECT_EQ(nlohmann::json::parse(v1->body())["version"], 1);
  // Two saves based on version 1 at the same time: exactly one wins.
  std::vector<std::future<unsigned>> saves;
  for (int i = 0; i < 2; ++i) {
    saves.push_back(std::async(std::launch::async, [&, i] {
      auto r = net::httpRequest(http::verb::put, url(su::Operation::MinutesWrite, "?" + writeQ + "&base=1"),
                                "# Minutes\nedit " + std::to_string(i) + "\n");
      return r ? r->result_int() : 0u;
    }));
  }
  std::vector<unsigned> codes = {saves[0].get(), saves[1].get()};
  std::sort(codes.begin(), codes.end());
  EXPECT_EQ(codes, (std::vector<unsigned>{201, 409}));
  auto conflict = net::httpRequest(http::verb::put, url(su::Operation::MinutesWrite, "?" + writeQ + "&base=1"), "late");
  EXPECT_EQ(conflict->result_int(), 409);
  EXPECT_EQ(nlohmann::json::parse(conflict->body())["latest"], 2);
  auto latest = net::httpRequest(http::verb::get, url(su::Operation::MinutesRead, "?" + readQ));
  EXPECT_EQ(latest->result_int(), 200);
  EXPECT_EQ(latest->body().rfind("# Minutes\nedit ", 0), 0u);
  EXPECT_EQ((*latest)["X-Minutes-Version"], "2");
  auto first = net::httpRequest(http::verb::get, url(su::Operation::MinutesRead, "?" + readQ + "&version=1"));
  EXPECT_EQ(first->body(), "# Minutes\n");
  auto list = net::httpRequest(http::verb::get, url(su::Operation::MinutesRead, "/versions?" + readQ));
  auto j = nlohmann::json::parse(list->body());
  ASSERT_EQ(j["versions"].size(), 2u);
  EXPECT_EQ(j["versions"][0]["author"], "ann");
  EXPECT_EQ(j["versions"][1]["base"], 1);
  // Read grants do not write; grants for another room do not read; binary is not text.
  EXPECT_EQ(net::httpRequest(http::verb::put, url(su::Operation::MinutesRead, "?" + readQ + "&base=2"), "x")->result_int(), 403);
  EXPECT_EQ(net::httpRequest(http::verb::get, url(su::Operation::MinutesRead, "?" + grantQuery(su::Operation::MinutesRead, "minutes", "room-8")))->result_int(), 403);
  EXPECT_EQ(net::httpRequest(http::verb::put, url(su::Operation::MinutesWrite, "?" + writeQ + "&base=2"), std::string("a\0b", 3))->result_int(), 415);
  s.restart();
  EXPECT_EQ(s.files().minutes().latest(room), 2u);
}

TEST(FileServer, FiftyConcurrentUploadsAndDownloads) {
  FsServer s;
  constexpr int N = 50;
  std::vector<std::future<bool>> jobs;
  for (int i = 0; i < N; ++i) {
    jobs.push_back(std::async(std::launch::async, [&s, i] {
      std::string body(100000 + i * 997, '\0');
      ByteStream gen;
      gen.state += static_cast<uint64_t>(i);
      gen.fill(body.data(), body.size());
      auto up = upload(s, body, "text/plain", "room-" + std::to_string(i % 5), 1 << 20);
      if (up.status != 201) return false;
      if (nlohmann::json::parse(up.body)["sha256"] != sha256(body)) return false;
      auto res = get(s, up.id, {}, "room-" + std::to_string(i % 5));
      return res.result_int() == 200 && sha256(res.body()) == sha256(body);
    }));
  }
  int ok = 0;
  for (auto& j : jobs) ok += j.get() ? 1 : 0;
  EXPECT_EQ(ok, N);
}

TEST(FileServer, TwoHundredMiBStreamsWithBoundedMemory) {
  FsServer s(fs::StoreLimits{4ull << 30, 0, 0});
  constexpr uint64_t Size = 200ull << 20;
  constexpr long BoundKb = 48 * 1024;  // the stated bound: RSS may grow by at most 48 MiB
  const long baseline = vmRssKb();
  std::atomic<bool> running{true};
  std::atomic<long> peak{baseline};
  std::thread sampler([&] {
    while (running) {
      long now = vmRssKb();
      if (now > peak) peak = now;
      std::this_thread::sleep_for(5ms);
    }
  });
  auto id = su::newFileId();
  std::string sent;
  {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(120s);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.port()));
    std::string head = "PUT " + filePath(id, grantQuery(su::Operation::Upload, id, "room-1", Size)) +
                       " HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(Size) + "\r\n\r\n";
    asio::write(stream, asio::buffer(head));
    std::vector<char> chunk(256 * 1024);
    ByteStream gen;
    Sha h;
    for (uint64_t done = 0; done < Size; done += chunk.size()) {
      gen.fill(chunk.data(), chunk.size());
      h.update(std::string_view(chunk.data(), chunk.size()));
      asio::write(stream, asio::buffer(chunk));
    }
    sent = h.hex();
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    ASSERT_EQ(res.result_int(), 201) << res.body();
    EXPECT_EQ(nlohmann::json::parse(res.body())["sha256"], sent);
  }
  {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(120s);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.port()));
    http::request<http::empty_body> req{http::verb::get, filePath(id, grantQuery(su::Operation::Download, id)), 11};
    req.set(http::field::host, "x");
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    http::read_header(stream, buf, parser);
    ASSERT_EQ(parser.get().result_int(), 200);
    std::vector<char> chunk(64 * 1024);
    Sha h;
    uint64_t got = 0;
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      boost::system::error_code ec;
      http::read(stream, buf, parser, ec);
      if (ec && ec != http::error::need_buffer) FAIL() << ec.message();
      size_t n = chunk.size() - parser.get().body().size;
      h.update(std::string_view(chunk.data(), n));
      got += n;
    }
    EXPECT_EQ(got, Size);
    EXPECT_EQ(h.hex(), sent);
  }
  running = false;
  sampler.join();
  std::printf("[ memory ] 200 MiB up+down: VmRSS baseline %ld KiB, peak %ld KiB (+%ld KiB), bound +%ld KiB\n", baseline,
              peak.load(), peak.load() - baseline, BoundKb);
  EXPECT_LT(peak.load() - baseline, BoundKb);
}

namespace {

int64_t wallSeconds(const meeting::Clock& clock) { return clock.wallMicros() / 1'000'000; }

std::string confirmPath(const std::string& id, const std::string& q) {
  return std::string(fs::FsPrefix) + "/files/" + id + "/confirm?" + q;
}

}  // namespace

// Issue 8: bytes stored on an upload URL but never confirmed by the apiserver (the client never
// called complete) are removed once the URL's expiry plus the grace has passed, quota included;
// confirmed ones stay, across restarts too.
TEST(FileServer, UnconfirmedUploadsAreRemovedAfterTheirBound) {
  meeting::ManualClock clock(meeting::TimePoint{meeting::Duration{1'000'000}}, meeting::SystemClock::instance().wallMicros());
  constexpr int64_t Grace = 60;
  FsServer s(clock, Grace);
  const int64_t start = wallSeconds(clock);
  auto put = [&](const std::string& body, int64_t exp) {
    auto id = su::newFileId();
    auto res = net::httpRequest(http::verb::put, s.url(filePath(id, grantQuery(su::Operation::Upload, id, "room-1", 1 << 20, exp))),
                                body, withHeaders({{"Content-Type", "text/plain"}}));
    EXPECT_TRUE(res && res->result_int() == 201);
    return id;
  };
  const std::string kept = put("confirmed by the apiserver", start + 300);
  const std::string orphan = put("never confirmed", start + 300);
  ASSERT_EQ(s.files().store().find(orphan)->confirmBy, start + 300 + Grace);
  EXPECT_EQ(s.files().store().roomUsage("room-1"), 26u + 15u);

  // The confirmation needs its own grant, for this file and room.
  auto confirm = [&](const std::string& id, su::Operation op = su::Operation::Confirm, const std::string& room = "room-1") {
    auto res = net::httpRequest(http::verb::post, s.url(confirmPath(id, grantQuery(op, id, room, 0, wallSeconds(clock) + 60))), {}, {});
    return res ? *res : net::HttpClientResponse{};
  };
  EXPECT_EQ(confirm(kept, su::Operation::Download).result_int(), 403);
  EXPECT_EQ(confirm(kept, su::Operation::Confirm, "room-2").result_int(), 403);
  EXPECT_EQ(confirm(su::newFileId()).result_int(), 404);
  auto ok = confirm(kept);
  ASSERT_EQ(ok.result_int(), 200) << ok.body();
  auto meta = nlohmann::json::parse(ok.body());
  EXPECT_EQ(meta["sha256"], sha256("confirmed by the apiserver"));
  EXPECT_EQ(meta["size"], 26);
  EXPECT_EQ(meta["room"], "room-1");
  EXPECT_EQ(confirm(kept).result_int(), 200);  // a retry is harmless
  EXPECT_EQ(s.files().store().find(kept)->confirmBy, 0);

  // Up to the bound nothing goes; from it the orphan does, with its quota.
  clock.advance(std::chrono::seconds(300 + Grace - 1));
  EXPECT_EQ(s.files().store().sweepUnconfirmed(wallSeconds(clock)), 0u);
  clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(confirm(orphan).result_int(), 404);  // too late: it is being swept
  s.files().sweepUnconfirmed();                  // what FsService runs every minute, on the pool
  EXPECT_TRUE(eventually([&] { return !s.files().store().find(orphan); }));
  EXPECT_FALSE(stdfs::exists(s.dir() + "/files/" + orphan));
  EXPECT_FALSE(stdfs::exists(s.dir() + "/files/" + orphan + ".json"));
  EXPECT_EQ(s.files().store().roomUsage("room-1"), 26u);
  auto res = net::httpRequest(http::verb::get, s.url(filePath(kept, grantQuery(su::Operation::Download, kept, "room-1", 0, wallSeconds(clock) + 60))), {}, {});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body(), "confirmed by the apiserver");

  // The bound is in the sidecar: an upload left unconfirmed while the server was down goes at the
  // next start, a confirmed one stays.
  const std::string late = put("stored just before a restart", wallSeconds(clock) + 10);
  clock.advance(std::chrono::seconds(10 + Grace));
  s.restart();
  EXPECT_FALSE(s.files().store().find(late));
  EXPECT_FALSE(stdfs::exists(s.dir() + "/files/" + late));
  ASSERT_TRUE(s.files().store().find(kept));
  EXPECT_EQ(s.files().store().find(kept)->confirmBy, 0);
  clock.advance(std::chrono::hours(24 * 365));
  EXPECT_EQ(s.files().store().sweepUnconfirmed(wallSeconds(clock)), 0u);
}

// A sidecar written before confirmations existed (no confirm_by) is a confirmed file.
TEST(FileServer, SidecarsWithoutConfirmByAreKept) {
  const std::string dir = testRoot();
  const std::string id = su::newFileId();
  stdfs::create_directories(dir + "/files");
  std::ofstream(dir + "/files/" + id) << "old";
  std::ofstream(dir + "/files/" + id + ".json")
      << nlohmann::json{{"id", id}, {"room", "r"}, {"content_type", "text/plain"}, {"sha256", sha256("old")}, {"size", 3}}.dump();
  auto store = fs::FileStore::open(dir, {}, meeting::SystemClock::instance());
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->find(id));
  EXPECT_EQ((*store)->sweepUnconfirmed(std::numeric_limits<int64_t>::max()), 0u);
  EXPECT_TRUE((*store)->find(id));
  std::error_code ec;
  stdfs::remove_all(dir, ec);
}

// The same bytes whether the plain listener uses sendfile(2) or the 64 KiB streamed path: whole
// files larger than one sendfile turn, single and multiple ranges, HEAD, and many at once.
TEST(FileServer, ZeroCopyAndStreamedDownloadsAgree) {
  std::string body(5 * 1024 * 1024 + 321, '\0');
  ByteStream gen;
  gen.fill(body.data(), body.size());
  for (bool zeroCopy : {true, false}) {
    SCOPED_TRACE(zeroCopy ? "sendfile" : "streamed");
    FsServer s(meeting::SystemClock::instance(), 7200, zeroCopy);
    auto up = upload(s, body, "text/plain", "room-1", 8 << 20);
    ASSERT_EQ(up.status, 201u) << up.body;
    auto whole = get(s, up.id);
    EXPECT_EQ(whole.result_int(), 200);
    EXPECT_EQ(whole.body().size(), body.size());
    EXPECT_TRUE(whole.body() == body);
    auto single = get(s, up.id, {{"Range", "bytes=3000000-3999999"}});
    EXPECT_EQ(single.result_int(), 206);
    EXPECT_TRUE(single.body() == body.substr(3000000, 1000000));
    auto suffix = get(s, up.id, {{"Range", "bytes=-10"}});
    EXPECT_TRUE(suffix.body() == body.substr(body.size() - 10));
    auto multi = get(s, up.id, {{"Range", "bytes=0-1,4194304-4194310"}});
    EXPECT_EQ(multi.result_int(), 206);
    EXPECT_NE(multi.body().find(body.substr(4194304, 7)), std::string::npos);
    auto head = rawExchange(s.port(), "HEAD " + filePath(up.id, grantQuery(su::Operation::Download, up.id)) +
                                          " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
    EXPECT_NE(head.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos) << head;
    EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");  // no body after the head
    // Several downloads on one loop thread at once: each completes (none starves the others).
    std::vector<std::future<bool>> jobs;
    for (int i = 0; i < 8; ++i) {
      jobs.push_back(std::async(std::launch::async, [&] { return get(s, up.id).body() == body; }));
    }
    for (auto& j : jobs) EXPECT_TRUE(j.get());
  }
}

// docs/api.yaml documents every fsserver route (path parameters compared by position only).
TEST(FileServer, EveryRouteIsInTheOpenApiDocument) {
  auto shape = [](std::string path) {
    std::string out;
    for (size_t i = 0; i < path.size(); ++i) {
      if (path[i] != '{') {
        out += path[i];
        continue;
      }
      out += "{}";
      i = path.find('}', i);
    }
    return out;
  };
  std::ifstream file(std::string(MEETING_SOURCE_DIR) + "/docs/api.yaml");
  ASSERT_TRUE(file);
  std::set<std::string> documented;
  std::string line, path;
  while (std::getline(file, line)) {
    if (line.size() > 3 && line.rfind("  /", 0) == 0 && line.back() == ':') path = shape(line.substr(2, line.size() - 3));
    for (const char* verb : {"get", "put", "post", "delete"}) {
      if (line == std::string("    ") + verb + ":") documented.insert(std::string(verb) + " " + path);
    }
  }
  net::HttpRouter router;
  auto created = fs::FileServer::create(fs::FileServerOptions{Secret, testRoot(), {}, 1, 7200}, meeting::SystemClock::instance());
  ASSERT_TRUE(created);
  (*created)->registerRoutes(router);
  size_t checked = 0;
  for (auto [method, pattern] : router.routes()) {
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    EXPECT_TRUE(documented.count(method + " " + shape(pattern))) << method << " " << pattern << " is not in docs/api.yaml";
    ++checked;
  }
  EXPECT_EQ(checked, 7u);
  std::error_code ec;
  stdfs::remove_all((*created)->store().directory(), ec);
}
