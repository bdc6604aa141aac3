#include "app/CommandLine.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <vector>

using meeting::app::parseCommandLine;

namespace {

meeting::app::Command parse(std::vector<const char*> args) {
  args.insert(args.begin(), "meeting");
  return parseCommandLine(static_cast<int>(args.size()), args.data());
}

// Sets an environment variable for the scope of a test.
struct ScopedEnv {
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }
  const char* name_;
};

}  // namespace

TEST(CommandLine, NoArgumentsIsAllInOne) {
  auto c = parse({});
  EXPECT_EQ(c.exitCode, -1);
  EXPECT_EQ(c.role, "all");
  EXPECT_EQ(c.config.listen, "127.0.0.1:8443");
  EXPECT_EQ(c.config.dataDir, "meeting-data");
}

TEST(CommandLine, Seed001ApiserverFlags) {
  auto c = parse({"apiserver", "--secret", "xxx", "--mysqlAddress", "127.0.0.1:3306", "--mysqlUser", "root",
                  "--mysqlPassword", "111111", "--mysqlDatabase", "Meeting", "--domainaddress", "apiserver.com:443",
                  "--cert", "/path/to/cert.pem", "--certkey", "/path/to/certkey.pem", "--mailServer",
                  "smtp1.hello.com", "--mailServer", "smtp2.hello.com", "--mailPort", "587", "--mailUsername",
                  "hello", "--mailFrom", "hi@hello.com", "--allocateserver", "http://198.51.100.2:80/path"});
  ASSERT_EQ(c.exitCode, -1);
  EXPECT_EQ(c.role, "apiserver");
  EXPECT_EQ(c.config.secret, "xxx");
  EXPECT_EQ(c.config.mysqlAddress, "127.0.0.1:3306");
  EXPECT_EQ(c.config.mysqlUser, "root");
  EXPECT_EQ(c.config.mysqlPassword, "111111");
  EXPECT_EQ(c.config.mysqlDatabase, "Meeting");
  EXPECT_EQ(c.config.domainAddress, "apiserver.com:443");
  EXPECT_EQ(c.config.cert, "/path/to/cert.pem");
  EXPECT_EQ(c.config.certKey, "/path/to/certkey.pem");
  EXPECT_EQ(c.config.allocateServer, "http://198.51.100.2:80/path");
  ASSERT_EQ(c.config.mailServers.size(), 2u);
  EXPECT_EQ(c.config.mailServers[1].host, "smtp2.hello.com");
  EXPECT_EQ(c.config.mailServers[1].port, 587);
  EXPECT_EQ(c.config.mailServers[1].username, "hello");
  EXPECT_EQ(c.config.mailServers[1].from, "hi@hello.com");
}

TEST(CommandLine, Seed001OtherRoles) {
  auto sfu = parse({"sfuserver", "--secret", "xxx", "--domainaddress", "1.sfuserver.com:443", "--cert", "/c.pem",
                    "--certkey", "/k.pem", "--apiserver", "apiserver.com:443"});
  ASSERT_EQ(sfu.exitCode, -1);
  EXPECT_EQ(sfu.config.apiServer, "apiserver.com:443");
  auto turn = parse({"turnserver", "--secret", "xxx", "--port", "3478", "--ip", "1.2.3.4", "--apiserver", "apiserver.com:443"});
  ASSERT_EQ(turn.exitCode, -1);
  EXPECT_EQ(turn.config.turnPort, 3478);
  EXPECT_EQ(turn.config.ip, "1.2.3.4");
  auto fs = parse({"fsserver", "--secret", "xxx", "--domainaddress", "fsserver.com:443", "--directory", "/path/storage",
                   "--apiserver", "apiserver.com:443"});
  ASSERT_EQ(fs.exitCode, -1);
  EXPECT_EQ(fs.config.directory, "/path/storage");
  EXPECT_EQ(parse({"allocateserver", "--listen", "127.0.0.1:9000"}).config.listen, "127.0.0.1:9000");
}

TEST(CommandLine, FlagBeatsEnvironmentBeatsConfigFile) {
  {
    ScopedEnv env("MEETING_SECRET", "from-env");
    EXPECT_EQ(parse({"sfuserver"}).config.secret, "from-env");
    EXPECT_EQ(parse({"sfuserver", "--secret", "from-flag"}).config.secret, "from-flag");
  }
  {
    ScopedEnv env("MEETING_MYSQL_ADDRESS", "db.internal:3307");
    EXPECT_EQ(parse({"apiserver"}).config.mysqlAddress, "db.internal:3307");
  }
  {
    ScopedEnv env("MEETING_LOG_LEVEL", "debug");
    auto c = parse({"all", "--config", MEETING_TEST_DATA "/config/example-node.json"});
    ASSERT_EQ(c.exitCode, -1);
    EXPECT_EQ(c.config.logLevel, "debug") << "environment beats the file's log_level 3";
    EXPECT_EQ(c.config.name, "meet1");
    auto flag = parse({"all", "--config", MEETING_TEST_DATA "/config/example-node.json", "--log-level", "warn"});
    EXPECT_EQ(flag.config.logLevel, "warn");
  }
  auto fileOnly = parse({"all", "--config", MEETING_TEST_DATA "/config/example-node.json"});
  EXPECT_EQ(fileOnly.config.logLevel, "3");
}

TEST(CommandLine, BadInputExitsWithStatus2) {
  for (auto args : std::vector<std::vector<const char*>>{
           {"--bogus"},
           {"frobnicate"},
           {"turnserver", "--port", "99999"},
           {"turnserver", "--port", "abc"},
           {"turnserver", "--ip", "not-an-ip"},
           {"apiserver", "--mysqlAddress", "nohost"},
           {"apiserver", "--allocateserver", "ftp://x"},
           {"apiserver", "--mailServer", "smtp.x", "--mailFrom", "nobody"},
           {"apiserver", "--mailPort", "25"},
           {"sfuserver", "--mysqlAddress", "a:1"},
           {"all", "--log-level", "loud"},
           {"all", "--config", "/nonexistent.json"},
           {"sfuserver", "--secret", ""},
           {"fsserver", "--fs-max-file-size", "0"},
           {"fsserver", "--fs-max-file-size", "2X"},
           {"fsserver", "--fs-room-quota", "-1"},
           {"fsserver", "--fs-room-quota", "1.5G"},
           {"all", "--fs-total-quota", "99999999999T"},
           {"all", "--fs-total-quota", ""},
           {"sfuserver", "--fs-room-quota", "1G"},
       }) {
    testing::internal::CaptureStderr();
    auto c = parse(args);
    auto err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(c.exitCode, 2) << args[0] << " " << (args.size() > 1 ? args[1] : "");
    EXPECT_EQ(err.rfind("meeting: error: ", 0), 0u) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
}

TEST(CommandLine, FileServerSizeFlags) {
  auto defaults = parse({"fsserver"});
  EXPECT_EQ(defaults.config.fsMaxFileBytes, 2ull << 30);
  EXPECT_EQ(defaults.config.fsRoomQuotaBytes, 10ull << 30);
  EXPECT_EQ(defaults.config.fsTotalQuotaBytes, 0u);
  auto c = parse({"fsserver", "--fs-max-file-size", "500M", "--fs-room-quota", "2g", "--fs-total-quota", "1TiB"});
  ASSERT_EQ(c.exitCode, -1);
  EXPECT_EQ(c.config.fsMaxFileBytes, 500ull << 20);
  EXPECT_EQ(c.config.fsRoomQuotaBytes, 2ull << 30);
  EXPECT_EQ(c.config.fsTotalQuotaBytes, 1ull << 40);
  auto all = parse({"all", "--fs-max-file-size", "4096", "--fs-room-quota", "0", "--fs-total-quota", "64KB"});
  ASSERT_EQ(all.exitCode, -1);
  EXPECT_EQ(all.config.fsMaxFileBytes, 4096u);
  EXPECT_EQ(all.config.fsRoomQuotaBytes, 0u);
  EXPECT_EQ(all.config.fsTotalQuotaBytes, 64u << 10);
  EXPECT_EQ(parse({"apiserver", "--fs-max-file-size", "1G"}).config.fsMaxFileBytes, 1ull << 30);
  ScopedEnv env("MEETING_FS_ROOM_QUOTA", "3G");
  EXPECT_EQ(parse({"fsserver"}).config.fsRoomQuotaBytes, 3ull << 30);
  testing::internal::CaptureStderr();
  auto bad = parse({"fsserver", "--fs-room-quota", "lots"});
  auto err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(bad.exitCode, 2);
  EXPECT_NE(err.find("--fs-room-quota"), std::string::npos) << err;
}

TEST(CommandLine, InvalidConfigFileNamesTheField) {
  auto path = testing::TempDir() + "/bad-role.json";
  std::ofstream(path) << R"({"name":"meet1","roletype":"meet","iface":"lo","group":1,"order":1,"roleid":1,
    "separate":false,"port":70000,"cert_domain":"x","license_path":"y"})";
  testing::internal::CaptureStderr();
  auto c = parse({"all", "--config", path.c_str()});
  auto err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(c.exitCode, 2);
  EXPECT_NE(err.find("port: must be an integer from 1 to 65535"), std::string::npos) << err;
}

TEST(CommandLine, HelpExitsZero) {
  testing::internal::CaptureStdout();
  auto c = parse({"--help"});
  auto out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(c.exitCode, 0);
  for (const char* role : {"apiserver", "sfuserver", "turnserver", "fsserver", "allocateserver", "ctl", "version"}) {
    EXPECT_NE(out.find(role), std::string::npos) << role;
  }
  testing::internal::CaptureStdout();
  auto sub = parse({"turnserver", "--help"});
  auto subOut = testing::internal::GetCapturedStdout();
  EXPECT_EQ(sub.exitCode, 0);
  EXPECT_NE(subOut.find("--port"), std::string::npos) << subOut;
}

TEST(CommandLine, EnvironmentNames) {
  EXPECT_EQ(meeting::app::environmentName("mysqlAddress"), "MEETING_MYSQL_ADDRESS");
  EXPECT_EQ(meeting::app::environmentName("secret"), "MEETING_SECRET");
  EXPECT_EQ(meeting::app::environmentName("log-level"), "MEETING_LOG_LEVEL");
}

TEST(CommandLine, MailTlsAndDomainsLineUpWithTheMailServers) {
  auto c = parse({"apiserver", "--mailServer", "smtp.internal.example", "--mailServer", "smtp.example.com", "--mailFrom",
                  "hi@example.com", "--mailTls", "none", "--mailTls", "required", "--mailDomains",
                  "corp.example.com, Lab.Example.com", "--mailDomains", "example.org"});
  ASSERT_EQ(c.exitCode, -1);
  ASSERT_EQ(c.config.mailServers.size(), 2u);
  const auto& mail = c.config.ext["mail"];
  EXPECT_EQ(mail["tls"]["smtp.internal.example"], "none");
  EXPECT_EQ(mail["tls"]["smtp.example.com"], "required");
  EXPECT_EQ(mail["domains"]["smtp.internal.example"], (nlohmann::json{"corp.example.com", "lab.example.com"}));
  EXPECT_EQ(mail["domains"]["smtp.example.com"], (nlohmann::json{"example.org"}));

  // One value applies to every server, like --mailPort.
  auto one = parse({"apiserver", "--mailServer", "a.example", "--mailServer", "b.example", "--mailFrom", "hi@example.com",
                    "--mailTls", "opportunistic"});
  ASSERT_EQ(one.exitCode, -1);
  EXPECT_EQ(one.config.ext["mail"]["tls"]["a.example"], "opportunistic");
  EXPECT_EQ(one.config.ext["mail"]["tls"]["b.example"], "opportunistic");
  EXPECT_FALSE(one.config.ext["mail"]["domains"].contains("a.example"));

  // The environment: servers separated by ',' for --mailTls and by ';' for --mailDomains.
  {
    ScopedEnv tls("MEETING_MAIL_TLS", "required,none");
    ScopedEnv domains("MEETING_MAIL_DOMAINS", "a.com,b.com;c.com");
    auto env = parse({"apiserver", "--mailServer", "s1", "--mailServer", "s2", "--mailFrom", "hi@example.com"});
    ASSERT_EQ(env.exitCode, -1);
    EXPECT_EQ(env.config.ext["mail"]["tls"]["s2"], "none");
    EXPECT_EQ(env.config.ext["mail"]["domains"]["s1"], (nlohmann::json{"a.com", "b.com"}));
    EXPECT_EQ(env.config.ext["mail"]["domains"]["s2"], (nlohmann::json{"c.com"}));
  }

  {
    // Each server once, although both `all` and `apiserver` declare the variable.
    ScopedEnv servers("MEETING_MAIL_SERVER", "s1,s2");
    ScopedEnv from("MEETING_MAIL_FROM", "hi@example.com");
    auto env = parse({"apiserver"});
    ASSERT_EQ(env.exitCode, -1);
    EXPECT_EQ(env.config.mailServers.size(), 2u);
  }

  for (std::vector<const char*> bad : {
           std::vector<const char*>{"apiserver", "--mailServer", "s", "--mailFrom", "a@b.c", "--mailTls", "sometimes"},
           std::vector<const char*>{"apiserver", "--mailServer", "s", "--mailFrom", "a@b.c", "--mailDomains", "a.com,,b.com"},
           std::vector<const char*>{"apiserver", "--mailServer", "s", "--mailFrom", "a@b.c", "--mailDomains", "user@a.com"},
           std::vector<const char*>{"apiserver", "--mailServer", "s1", "--mailServer", "s2", "--mailServer", "s3",
                                    "--mailFrom", "a@b.c", "--mailTls", "none", "--mailTls", "required"},
           std::vector<const char*>{"apiserver", "--mailTls", "required"},
       }) {
    testing::internal::CaptureStderr();
    auto r = parse(bad);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(r.exitCode, 2) << bad.back();
    EXPECT_TRUE(err.find("--mailTls") != std::string::npos || err.find("--mailDomains") != std::string::npos ||
                err.find("--mailServer") != std::string::npos)
        << err;
  }
}

TEST(CommandLine, WebhookUrlIsTheRoleFileExtWebhookUrl) {
  auto c = parse({"apiserver", "--webhook-url", "https://hooks.example.com/meeting?k=1"});
  ASSERT_EQ(c.exitCode, -1);
  EXPECT_EQ(c.config.ext["webhook"]["url"], "https://hooks.example.com/meeting?k=1");
  {
    ScopedEnv env("MEETING_WEBHOOK_URL", "http://env.example.com/hook");
    EXPECT_EQ(parse({"all"}).config.ext["webhook"]["url"], "http://env.example.com/hook");
  }
  testing::internal::CaptureStderr();
  EXPECT_EQ(parse({"apiserver", "--webhook-url", "ftp://x.example.com/"}).exitCode, 2);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("--webhook-url"), std::string::npos);
  // Not a flag of the media roles.
  testing::internal::CaptureStderr();
  EXPECT_EQ(parse({"sfuserver", "--webhook-url", "https://hooks.example.com/"}).exitCode, 2);
  testing::internal::GetCapturedStderr();
}

TEST(CommandLine, ApiserverHelpListsTheMailAndWebhookFlags) {
  testing::internal::CaptureStdout();
  auto c = parse({"apiserver", "--help"});
  const std::string help = testing::internal::GetCapturedStdout();
  EXPECT_EQ(c.exitCode, 0);
  for (const char* flag : {"--mailTls", "--mailDomains", "--webhook-url", "--mailServer"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag << "\n" << help;
  }
}
