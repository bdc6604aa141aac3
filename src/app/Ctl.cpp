#include "app/Ctl.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

#include "net/HttpClient.hpp"
#if MEETING_HAS_API
#include "api/ApiKeys.hpp"
#endif

namespace meeting::app {

int runCtl(const std::vector<std::string>& args) {
  CLI::App app{"Admin console: talks to a running Meeting server over HTTPS.", "meeting ctl"};
  std::string server = "https://127.0.0.1:8443";
  bool insecure = false;
  app.add_option("--server", server, "Base URL of the server")->envname("MEETING_SERVER")->capture_default_str();
  app.add_flag("--insecure,-k", insecure, "Accept a self-signed certificate (the all-in-one default)");
  app.require_subcommand(1);
  auto* ping = app.add_subcommand("ping", "Check that the server answers");
  auto* metrics = app.add_subcommand("metrics", "Print the server's Prometheus metrics");
  auto* version = app.add_subcommand("version", "Print the server's version");
#if MEETING_HAS_API
  // API keys live in the database, so this talks to it directly (same flags as the apiserver).
  Config database;
  std::vector<std::string> keyArgs;
  auto* apikey = app.add_subcommand("apikey", "Manage REST API keys in the database: create NAME | list | revoke ID");
  apikey->add_option("args", keyArgs, "create NAME | list | revoke ID")->required();
  apikey->add_option("--data", database.dataDir, "Data folder holding the SQLite database")->envname("MEETING_DATA")->capture_default_str();
  apikey->add_option("--mysqlAddress", database.mysqlAddress, "MySQL/MariaDB host:port")->envname("MEETING_MYSQL_ADDRESS");
  apikey->add_option("--mysqlUser", database.mysqlUser, "MySQL/MariaDB user")->envname("MEETING_MYSQL_USER");
  apikey->add_option("--mysqlPassword", database.mysqlPassword, "MySQL/MariaDB password")->envname("MEETING_MYSQL_PASSWORD");
  apikey->add_option("--mysqlDatabase", database.mysqlDatabase, "MySQL/MariaDB database")->envname("MEETING_MYSQL_DATABASE");
  // A room's files (rows of the files collection), read from the database like `apikey`.
  std::string filesRoom;
  auto* files = app.add_subcommand("files", "List a room's files from the database: ROOM");
  files->add_option("room", filesRoom, "Room id")->required();
  files->add_option("--data", database.dataDir, "Data folder holding the SQLite database")->envname("MEETING_DATA")->capture_default_str();
  files->add_option("--mysqlAddress", database.mysqlAddress, "MySQL/MariaDB host:port")->envname("MEETING_MYSQL_ADDRESS");
  files->add_option("--mysqlUser", database.mysqlUser, "MySQL/MariaDB user")->envname("MEETING_MYSQL_USER");
  files->add_option("--mysqlPassword", database.mysqlPassword, "MySQL/MariaDB password")->envname("MEETING_MYSQL_PASSWORD");
  files->add_option("--mysqlDatabase", database.mysqlDatabase, "MySQL/MariaDB database")->envname("MEETING_MYSQL_DATABASE");
#endif

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      std::cout << app.help();
      return 0;
    }
    std::cerr << "meeting ctl: error: " << e.what() << "\n";
    return 2;
  }
#if MEETING_HAS_API
  if (apikey->parsed()) return api::runApiKeyCommand(keyArgs, database, std::cout, std::cerr);
  if (files->parsed()) return api::runFilesCommand(filesRoom, database, std::cout, std::cerr);
#endif
  std::string path = ping->parsed() ? "/ping" : metrics->parsed() ? "/metrics" : "/version";
  (void)version;
  while (!server.empty() && server.back() == '/') server.pop_back();
  net::HttpClientOptions options;
  options.verifyTls = !insecure;
  auto response = net::httpRequest(net::http::verb::get, server + path, {}, options);
  if (!response) {
    std::cerr << "meeting ctl: " << response.error().message
              << (response.error().code == "tls" && !insecure ? " (use --insecure for a self-signed certificate)" : "")
              << "\n";
    return 1;
  }
  std::cout << response->body();
  if (!response->body().empty() && response->body().back() != '\n') std::cout << "\n";
  return response->result_int() == 200 ? 0 : 1;
}

}  // namespace meeting::app
