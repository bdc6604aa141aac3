#include "common/AccessToken.hpp"

#include <gtest/gtest.h>

namespace token = meeting::token;

namespace {

token::AccessClaims sampleClaims() {
  token::AccessClaims c;
  c.room = "room-1";
  c.identity = "peer-7";
  c.displayName = "Ada";
  c.grants.canPublish = false;
  c.grants.roomAdmin = true;
  c.issuedAt = 1'700'000'000;
  c.expiresAt = 1'700'003'600;
  return c;
}

// Replaces one part of a token (0 header, 1 payload, 2 signature).
std::string withPart(const std::string& jwt, int index, const std::string& part) {
  size_t a = jwt.find('.'), b = jwt.find('.', a + 1);
  std::string parts[3] = {jwt.substr(0, a), jwt.substr(a + 1, b - a - 1), jwt.substr(b + 1)};
  parts[index] = part;
  return parts[0] + "." + parts[1] + "." + parts[2];
}

}  // namespace

TEST(AccessToken, Base64UrlRoundTripAndStrictness) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00\x01", 4)}) {
    auto enc = token::base64UrlEncode(s);
    EXPECT_EQ(enc.find('='), std::string::npos);
    auto dec = token::base64UrlDecode(enc);
    ASSERT_TRUE(dec);
    EXPECT_EQ(*dec, s);
  }
  EXPECT_EQ(token::base64UrlEncode("foobar"), "Zm9vYmFy");  // RFC 4648 §10
  EXPECT_EQ(token::base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(token::base64UrlDecode("Zg=="));  // padding refused
  EXPECT_FALSE(token::base64UrlDecode("Z"));     // impossible length
  EXPECT_FALSE(token::base64UrlDecode("Zh"));    // non-canonical trailing bits
  EXPECT_FALSE(token::base64UrlDecode("a+b/"));  // standard alphabet refused
}

TEST(AccessToken, SignAndVerifyRoundTrip) {
  auto jwt = token::signAccessToken(sampleClaims(), "s3cret");
  ASSERT_TRUE(jwt) << jwt.error().message;
  auto claims = token::verifyAccessToken(*jwt, "s3cret", 1'700'000'100);
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(claims->room, "room-1");
  EXPECT_EQ(claims->identity, "peer-7");
  EXPECT_EQ(claims->displayName, "Ada");
  EXPECT_FALSE(claims->grants.canPublish);
  EXPECT_TRUE(claims->grants.canSubscribe);
  EXPECT_TRUE(claims->grants.canPublishData);
  EXPECT_TRUE(claims->grants.roomAdmin);
  EXPECT_EQ(claims->issuedAt, 1'700'000'000);
  EXPECT_EQ(claims->expiresAt, 1'700'003'600);
}

TEST(AccessToken, KnownHs256Vector) {
  // MAC computed independently: printf '%s' 'eyJhbGciOiJIUzI1NiJ9.e30' | openssl dgst -sha256 -hmac secret -binary
  auto verified = token::verifyJwt("eyJhbGciOiJIUzI1NiJ9.e30.XmNK3GpH3Ys_7wsYBfq4C3M6goz71I7dTgUkuIa5lyQ", "secret");
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_TRUE(verified->is_object());
  EXPECT_TRUE(verified->empty());
}

TEST(AccessToken, ErrorCodes) {
  auto jwt = *token::signAccessToken(sampleClaims(), "s3cret");
  auto code = [](const auto& r) { return r ? std::string("ok") : r.error().code; };
  EXPECT_EQ(code(token::verifyAccessToken(jwt, "other", 1'700'000'100)), token::errc::BadSignature);
  EXPECT_EQ(code(token::verifyAccessToken(jwt, "s3cret", 1'700'003'600)), token::errc::Expired);
  EXPECT_EQ(code(token::verifyAccessToken(jwt, "s3cret", 1'699'990'000)), token::errc::NotYetValid);
  EXPECT_EQ(code(token::verifyAccessToken(jwt, "", 1'700'000'100)), token::errc::NoSecret);
  EXPECT_EQ(code(token::verifyAccessToken("abc", "s3cret", 0)), token::errc::Malformed);
  EXPECT_EQ(code(token::verifyAccessToken("a.b.c.d", "s3cret", 0)), token::errc::Malformed);
  EXPECT_EQ(code(token::verifyAccessToken(std::string(token::MaxTokenBytes + 1, 'a'), "s3cret", 0)), token::errc::Malformed);
  // alg "none" with an empty signature, and HS512, are refused before any MAC check.
  auto none = withPart(withPart(jwt, 0, token::base64UrlEncode(R"({"alg":"none"})")), 2, "");
  EXPECT_EQ(code(token::verifyAccessToken(none, "s3cret", 1'700'000'100)), token::errc::WrongAlg);
  auto hs512 = withPart(jwt, 0, token::base64UrlEncode(R"({"alg":"HS512"})"));
  EXPECT_EQ(code(token::verifyAccessToken(hs512, "s3cret", 1'700'000'100)), token::errc::WrongAlg);
  // An edited payload fails the MAC.
  auto edited = withPart(jwt, 1, token::base64UrlEncode(R"({"aud":"rtc","room":"other","sub":"x","iat":1,"exp":9999999999})"));
  EXPECT_EQ(code(token::verifyAccessToken(edited, "s3cret", 1'700'000'100)), token::errc::BadSignature);
}

TEST(AccessToken, TypedClaimsAreChecked) {
  auto code = [](const nlohmann::json& payload) {
    auto jwt = *token::signJwt(payload, "k");
    auto r = token::verifyAccessToken(jwt, "k", 100);
    return r ? std::string("ok") : r.error().code;
  };
  nlohmann::json good = {{"aud", "rtc"}, {"room", "r"}, {"sub", "p"}, {"iat", 50}, {"exp", 200}};
  EXPECT_EQ(code(good), "ok");
  auto bad = good;
  bad["aud"] = "control";
  EXPECT_EQ(code(bad), token::errc::WrongAudience);
  bad = good;
  bad["exp"] = "200";
  EXPECT_EQ(code(bad), token::errc::Malformed);
  bad = good;
  bad.erase("room");
  EXPECT_EQ(code(bad), token::errc::Malformed);
  bad = good;
  bad["grants"] = {{"canPublish", 1}};
  EXPECT_EQ(code(bad), token::errc::Malformed);
  bad = good;
  bad["grants"] = "all";
  EXPECT_EQ(code(bad), token::errc::Malformed);
  EXPECT_FALSE(token::signJwt(nlohmann::json::array(), "k"));
  EXPECT_FALSE(token::signAccessToken(token::AccessClaims{}, "k"));
}

TEST(AccessToken, InvalidUtf8InClaimsDoesNotThrow) {
  auto c = sampleClaims();
  c.displayName = "bad \xff name";
  auto jwt = token::signAccessToken(c, "k");
  ASSERT_TRUE(jwt);
  auto back = token::verifyAccessToken(*jwt, "k", 1'700'000'100);
  ASSERT_TRUE(back);
  EXPECT_NE(back->displayName.find("bad"), std::string::npos);
}
