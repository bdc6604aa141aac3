#include "common/Config.hpp"

#include <gtest/gtest.h>

#include <fstream>

using meeting::Config;
using nlohmann::json;

namespace {

json exampleNode() {
  std::ifstream in(MEETING_TEST_DATA "/config/example-node.json");
  return json::parse(in);
}

std::string errorOf(const json& role) {
  Config c;
  auto r = meeting::applyRoleJson(role, c);
  return r ? std::string("ok") : r.error().message;
}

}  // namespace

TEST(Config, Seed000ExampleNodeLoadsUnchanged) {
  Config c;
  auto r = meeting::loadRoleFile(MEETING_TEST_DATA "/config/example-node.json", c);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(c.name, "meet1");
  EXPECT_EQ(c.roleType, "meet");
  EXPECT_EQ(c.iface, "eth0");
  EXPECT_EQ(c.group, 11420);
  EXPECT_EQ(c.order, 1);
  EXPECT_EQ(c.roleId, 11420);
  EXPECT_TRUE(c.separate);
  EXPECT_EQ(c.listenIface, "eth0");
  EXPECT_EQ(c.port, 4123);
  EXPECT_EQ(c.certDomain, "my.host.ru");
  EXPECT_EQ(c.certDir, "alias://paths/meet_certdir");
  EXPECT_TRUE(c.monitoringEnabled);
  EXPECT_EQ(c.reportPassword, "reppass");
  EXPECT_EQ(c.defaultDomain, "td1");
  EXPECT_EQ(c.logLevel, "3");
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.announcedIface, "eth0") << "defaults to the node interface";
}

TEST(Config, RoleIdRange) {
  // Seed 000's example uses roleid 11420 although its table says 1..9999: the example wins.
  auto role = exampleNode();
  role["roleid"] = 10000;
  EXPECT_EQ(errorOf(role), "ok");
  for (json bad : {json(0), json(-5), json(10000000), json("7"), json(1.5)}) {
    role["roleid"] = bad;
    EXPECT_EQ(errorOf(role).rfind("roleid: must be an integer", 0), 0u) << bad.dump();
  }
}

TEST(Config, EachInvalidFieldIsNamed) {
  struct Case {
    const char* field;
    json value;
  };
  const Case cases[] = {
      {"name", "1meet"},        {"name", "meet-1"},  {"name", ""},         {"name", 5},
      {"roletype", "sfu"},      {"iface", ""},       {"iface", "bad iface"}, {"group", 0},
      {"group", 10000000},      {"group", "11"},     {"port", 0},          {"port", 70000},
      {"separate", "yes"},      {"enabled", 1},      {"turn_port", -1},    {"turn_port_tls", 65536},
      {"port_http", "80"},      {"monitoring_enabled", "true"}, {"log_level", 9}, {"include_domains", "td1"},
      {"include_domains", json::array({1})}, {"ext", 5}, {"listeniface", "a b"}, {"cert_domain", ""},
  };
  for (const auto& c : cases) {
    auto role = exampleNode();
    role[c.field] = c.value;
    auto message = errorOf(role);
    EXPECT_EQ(message.rfind(std::string(c.field) + ":", 0), 0u) << c.field << " = " << c.value.dump() << " -> " << message;
  }
}

TEST(Config, MissingRequiredFieldsAreNamed) {
  for (const char* field : {"name", "roletype", "iface", "roleid", "separate", "group", "order", "port",
                            "license_path", "cert_domain"}) {
    auto role = exampleNode();
    role.erase(field);
    EXPECT_EQ(errorOf(role), std::string(field) + ": is required");
  }
}

TEST(Config, UnknownFieldIsRejected) {
  auto role = exampleNode();
  role["colour"] = "blue";
  EXPECT_EQ(errorOf(role), "colour: is not a known field of the meet role");
}

TEST(Config, OptionalFieldsApply) {
  auto role = exampleNode();
  role["enabled"] = false;
  role["turn_port"] = 3478;
  role["turn_port_tls"] = 5349;
  role["turn_iface"] = "127.0.0.1";
  role["announcediface"] = "lo";
  role["listeniface_http"] = "lo";
  role["port_http"] = 8080;
  role["include_domains"] = json::array({"td1", "example.org"});
  role["ext"] = json::object({{"k", 1}});
  role["log_level"] = "debug";
  Config c;
  ASSERT_TRUE(meeting::applyRoleJson(role, c));
  EXPECT_FALSE(c.enabled);
  EXPECT_EQ(c.turnPort, 3478);
  EXPECT_EQ(c.turnPortTls, 5349);
  EXPECT_EQ(c.turnIface, "127.0.0.1");
  EXPECT_EQ(c.announcedIface, "lo");
  EXPECT_EQ(c.portHttp, 8080);
  EXPECT_EQ(c.includeDomains, (std::vector<std::string>{"td1", "example.org"}));
  EXPECT_EQ(c.ext["k"], 1);
  EXPECT_EQ(c.logLevel, "debug");
}

TEST(Config, RolesListPicksTheMeetRole) {
  auto path = testing::TempDir() + "/roles.json";
  json doc = {{"roles", json::array({json{{"roletype", "other"}}, exampleNode()})}};
  std::ofstream(path) << doc.dump();
  Config c;
  ASSERT_TRUE(meeting::loadRoleFile(path, c));
  EXPECT_EQ(c.name, "meet1");
}

TEST(Config, BadFileErrorsNameTheFile) {
  Config c;
  auto missing = meeting::loadRoleFile("/nonexistent/x.json", c);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/x.json"), std::string::npos);
  auto path = testing::TempDir() + "/broken.json";
  std::ofstream(path) << "{not json";
  auto broken = meeting::loadRoleFile(path, c);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("not valid JSON"), std::string::npos);
}

TEST(Config, InterfaceAliasesResolve) {
  auto lo = meeting::resolveInterface("lo", "iface");
  ASSERT_TRUE(lo) << lo.error().message;
  EXPECT_EQ(*lo, "127.0.0.1");
  EXPECT_EQ(*meeting::resolveInterface("203.0.113.3", "iface"), "203.0.113.3");  // parsed, never contacted
  EXPECT_EQ(*meeting::resolveInterface("::1", "iface"), "::1");
  auto missing = meeting::resolveInterface("nosuchif0", "turn_iface");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "turn_iface: no network interface named nosuchif0");
}

TEST(Config, PathAliasesResolveUnderTheRoot) {
  EXPECT_EQ(meeting::resolvePathAlias("alias://paths/meet_certdir", "/data"), "/data/paths/meet_certdir");
  EXPECT_EQ(meeting::resolvePathAlias("/etc/meet", "/data"), "/etc/meet");
}

TEST(Config, HostPort) {
  EXPECT_TRUE(meeting::isHostPort("apiserver.com:443"));
  EXPECT_TRUE(meeting::isHostPort("[::1]:8443"));
  EXPECT_FALSE(meeting::isHostPort("apiserver.com"));
  EXPECT_FALSE(meeting::isHostPort("a:0"));
  EXPECT_FALSE(meeting::isHostPort("a:65536"));
  EXPECT_FALSE(meeting::isHostPort("a:12x"));
}
