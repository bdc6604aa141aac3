#include "common/SignedUrl.hpp"

#include <gtest/gtest.h>

#include <set>

namespace su = meeting::signedurl;

namespace {

constexpr std::string_view Secret = "cluster-secret";
constexpr int64_t Now = 1'700'000'000;
const std::string Id = "0123456789abcdef0123456789abcdef";

su::Grant uploadGrant() {
  su::Grant g;
  g.op = su::Operation::Upload;
  g.id = Id;
  g.room = "room-1";
  g.maxBytes = 1 << 20;
  g.expiresAt = Now + 300;
  return g;
}

std::string signedQuery(const su::Grant& g) {
  auto q = su::sign(g, Secret);
  EXPECT_TRUE(q) << (q ? "" : q.error().message);
  return q ? *q : std::string{};
}

std::string codeOf(const meeting::Result<su::Grant>& r) { return r ? std::string("ok") : r.error().code; }

// Replaces the value of `key` in a query string.
std::string withField(std::string q, const std::string& key, const std::string& value) {
  auto pos = q.find(key + "=");
  auto end = q.find('&', pos);
  return q.replace(pos + key.size() + 1, (end == std::string::npos ? q.size() : end) - pos - key.size() - 1, value);
}

}  // namespace

TEST(SignedUrl, SignThenVerifyRoundTrips) {
  auto q = signedQuery(uploadGrant());
  auto g = su::verifyQuery(q, su::Operation::Upload, Id, Secret, Now);
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->room, "room-1");
  EXPECT_EQ(g->maxBytes, 1u << 20);
  EXPECT_EQ(g->expiresAt, Now + 300);
  EXPECT_EQ(g->op, su::Operation::Upload);
}

TEST(SignedUrl, MissingFieldsAreMissing) {
  EXPECT_EQ(codeOf(su::verifyQuery("", su::Operation::Download, Id, Secret, Now)), su::errc::Missing);
  auto q = signedQuery(uploadGrant());
  auto noSig = q.substr(0, q.find("&sig="));
  EXPECT_EQ(codeOf(su::verifyQuery(noSig, su::Operation::Upload, Id, Secret, Now)), su::errc::Missing);
}

TEST(SignedUrl, ExpiredAtAndAfterExp) {
  auto q = signedQuery(uploadGrant());
  EXPECT_EQ(codeOf(su::verifyQuery(q, su::Operation::Upload, Id, Secret, Now + 299)), "ok");
  EXPECT_EQ(codeOf(su::verifyQuery(q, su::Operation::Upload, Id, Secret, Now + 300)), su::errc::Expired);
}

TEST(SignedUrl, EveryTamperedFieldIsRefused) {
  auto q = signedQuery(uploadGrant());
  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"op", "download"}, {"id", "ffffffffffffffffffffffffffffffff"}, {"room", "room-2"},
           {"max", "1048577"}, {"exp", std::to_string(Now + 301)}}) {
    auto tampered = withField(q, key, value);
    auto op = key == "op" ? su::Operation::Download : su::Operation::Upload;
    auto id = key == "id" ? std::string(32, 'f') : Id;
    EXPECT_EQ(codeOf(su::verifyQuery(tampered, op, id, Secret, Now)), su::errc::BadSignature) << key;
  }
  // A flipped MAC bit, and the right MAC under another secret.
  auto sig = q.substr(q.find("sig=") + 4);
  sig[3] = sig[3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(codeOf(su::verifyQuery(withField(q, "sig", sig), su::Operation::Upload, Id, Secret, Now)),
            su::errc::BadSignature);
  EXPECT_EQ(codeOf(su::verifyQuery(q, su::Operation::Upload, Id, "other-secret", Now)), su::errc::BadSignature);
}

TEST(SignedUrl, WrongOperationAndResource) {
  auto q = signedQuery(uploadGrant());
  EXPECT_EQ(codeOf(su::verifyQuery(q, su::Operation::Download, Id, Secret, Now)), su::errc::WrongOperation);
  EXPECT_EQ(codeOf(su::verifyQuery(q, su::Operation::Delete, Id, Secret, Now)), su::errc::WrongOperation);
  EXPECT_EQ(codeOf(su::verifyQuery(q, su::Operation::Upload, std::string(32, 'a'), Secret, Now)),
            su::errc::WrongResource);
}

TEST(SignedUrl, MalformedFields) {
  auto q = signedQuery(uploadGrant());
  EXPECT_EQ(codeOf(su::verifyQuery(withField(q, "op", "write"), su::Operation::Upload, Id, Secret, Now)),
            su::errc::Malformed);
  EXPECT_EQ(codeOf(su::verifyQuery(withField(q, "id", "../../etc/passwd"), su::Operation::Upload, Id, Secret, Now)),
            su::errc::Malformed);
  EXPECT_EQ(codeOf(su::verifyQuery(withField(q, "room", "a%2Fb"), su::Operation::Upload, Id, Secret, Now)),
            su::errc::Malformed);
  EXPECT_EQ(codeOf(su::verifyQuery(withField(q, "max", "-1"), su::Operation::Upload, Id, Secret, Now)),
            su::errc::Malformed);
  EXPECT_EQ(codeOf(su::verifyQuery(withField(q, "max", "01"), su::Operation::Upload, Id, Secret, Now)),
            su::errc::Malformed);
  EXPECT_EQ(codeOf(su::verifyQuery(withField(q, "exp", "99999999999999999999"), su::Operation::Upload, Id, Secret, Now)),
            su::errc::Malformed);
  EXPECT_EQ(codeOf(su::verifyQuery(withField(q, "sig", "%zz"), su::Operation::Upload, Id, Secret, Now)),
            su::errc::Malformed);
  EXPECT_EQ(codeOf(su::verifyQuery(q + "&op=upload", su::Operation::Upload, Id, Secret, Now)), su::errc::Malformed);
  EXPECT_EQ(codeOf(su::verifyQuery(std::string(5000, 'a'), su::Operation::Upload, Id, Secret, Now)),
            su::errc::Malformed);
  // Unknown parameters (a display name) are ignored and not covered.
  EXPECT_EQ(codeOf(su::verifyQuery(q + "&name=x.png", su::Operation::Upload, Id, Secret, Now)), "ok");
}

TEST(SignedUrl, EmptySecretRefused) {
  EXPECT_FALSE(su::sign(uploadGrant(), ""));
  auto q = signedQuery(uploadGrant());
  EXPECT_EQ(codeOf(su::verifyQuery(q, su::Operation::Upload, Id, "", Now)), su::errc::NoSecret);
}

TEST(SignedUrl, SignRefusesBadGrants) {
  auto g = uploadGrant();
  g.id = "../x";
  EXPECT_FALSE(su::sign(g, Secret));
  g = uploadGrant();
  g.room = "..";
  EXPECT_FALSE(su::sign(g, Secret));
  g = uploadGrant();
  g.room = "a/b";
  EXPECT_FALSE(su::sign(g, Secret));
  g = uploadGrant();
  g.id = std::string(su::MinutesId);
  g.op = su::Operation::MinutesWrite;
  EXPECT_TRUE(su::sign(g, Secret));
}

TEST(SignedUrl, IdsAreRandomHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto id = su::newFileId();
    EXPECT_TRUE(su::isValidFileId(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_FALSE(su::isValidFileId("0123456789ABCDEF0123456789abcdef"));
}

TEST(SignedUrl, KnownVectorMatchesOpenSslCommandLine) {
  // echo -n $'meeting-fs-v1\ndownload\n<id>\nr\n0\n2000000000' | openssl dgst -sha256 -hmac k -binary | base64url
  su::Grant g;
  g.op = su::Operation::Download;
  g.id = Id;
  g.room = "r";
  g.expiresAt = 2'000'000'000;
  auto q = su::sign(g, "k");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->substr(q->find("sig=") + 4), "Dvdwbv8-sLBbMvkk1Lc06opjQPhnAXhcPMU7SuRKAXU");
}

// The subject (issue 8: the uploader) is signed: changed, dropped, emptied or added, the URL fails.
TEST(SignedUrl, SubjectIsSigned) {
  auto g = uploadGrant();
  g.subject = "ann é/x&y=z";
  auto q = signedQuery(g);
  EXPECT_NE(q.find("&sub=ann%20%C3%A9%2Fx%26y%3Dz&"), std::string::npos) << q;
  auto back = su::verifyQuery(q, su::Operation::Upload, Id, Secret, Now);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->subject, "ann é/x&y=z");
  EXPECT_EQ(codeOf(su::verifyQuery(withField(q, "sub", "bob"), su::Operation::Upload, Id, Secret, Now)),
            su::errc::BadSignature);
  auto dropped = q;
  dropped.erase(q.find("&sub="), q.find("&sig=") - q.find("&sub="));
  EXPECT_EQ(codeOf(su::verifyQuery(dropped, su::Operation::Upload, Id, Secret, Now)), su::errc::BadSignature);
  EXPECT_EQ(codeOf(su::verifyQuery(withField(q, "sub", ""), su::Operation::Upload, Id, Secret, Now)), su::errc::Malformed);
  // A grant signed without a subject does not accept one added afterwards.
  auto plain = signedQuery(uploadGrant());
  EXPECT_TRUE(su::verifyQuery(plain, su::Operation::Upload, Id, Secret, Now));
  EXPECT_EQ(codeOf(su::verifyQuery(plain + "&sub=bob", su::Operation::Upload, Id, Secret, Now)), su::errc::BadSignature);
  EXPECT_EQ(codeOf(su::verifyQuery(plain + "&sub=bob&sub=eve", su::Operation::Upload, Id, Secret, Now)), su::errc::Malformed);
  // Control characters (a '\n' would forge another canonical line) and overlong subjects.
  g.subject = "a\nb";
  EXPECT_FALSE(su::sign(g, Secret));
  g.subject = std::string(su::MaxSubjectBytes + 1, 'a');
  EXPECT_FALSE(su::sign(g, Secret));
  EXPECT_EQ(codeOf(su::verifyQuery(withField(q, "sub", "a%0Ab"), su::Operation::Upload, Id, Secret, Now)), su::errc::Malformed);
}

TEST(SignedUrl, SubjectVectorMatchesOpenSslCommandLine) {
  // printf 'meeting-fs-v2\nupload\n<id>\nr\n10\n2000000000\nann é' | openssl dgst -sha256 -hmac k -binary | base64url
  su::Grant g;
  g.op = su::Operation::Upload;
  g.id = Id;
  g.room = "r";
  g.maxBytes = 10;
  g.expiresAt = 2'000'000'000;
  g.subject = "ann é";
  auto q = su::sign(g, "k");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->substr(q->find("sig=") + 4), "vc1SIsiy7kPxyTRGipdzTYlI8abqZoZ7ADatD2SBgHo");
}
