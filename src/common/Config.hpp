#pragma once
// The one typed configuration every role reads. It is filled, in increasing precedence, from
// defaults, seed 000's role JSON (--config FILE), environment variables (MEETING_*) and flags.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "common/Result.hpp"

namespace meeting {

/// One outgoing mail server (seed 001 lets --mailServer etc. repeat, e.g. internal and external).
struct MailServer {
  std::string host;
  int port = 587;
  std::string username;
  std::string password;
  std::string from;
};

struct Config {
  // --- Seed 000 role description (the "Example node" loads unchanged) ---
  std::string name;              // letters and digits, starts with a letter
  std::string roleType;          // "meet"
  std::string iface;             // interface alias or address used between roles
  nlohmann::json ext;            // extra options, object or list
  bool enabled = true;           // false: the role does not start
  int roleId = 0;                // 1..9999 per seed 000's table; its example uses 11420
  bool separate = false;
  int group = 0;                 // 1..9999999
  int order = 0;
  std::vector<std::string> includeDomains;
  std::string listenIface;       // where the main listener binds
  std::string announcedIface;    // the address clients are told (media candidates)
  int port = 0;                  // main listener port (seed 000 `port`; TURN: seed 001 `--port`)
  std::string licensePath;
  bool monitoringEnabled = true;
  std::string reportPassword;
  std::string certDomain;
  std::string certDir;           // holds fullchain.pem + privkey.pem
  std::string turnIface;
  int turnPort = 0;              // 0: TURN listener not started
  int turnPortTls = 0;
  std::string turnCertDir;
  std::string listenIfaceHttp;
  int portHttp = 0;
  std::string defaultDomain;
  std::string logLevel = "info";

  // --- Seed 001 command-line flags ---
  std::string secret;
  std::string mysqlAddress;      // host:port; empty means SQLite in the data folder
  std::string mysqlUser;
  std::string mysqlPassword;
  std::string mysqlDatabase = "meeting";
  std::string domainAddress;     // public host:port of this role
  std::string cert;              // PEM certificate (chain after it)
  std::string certKey;
  std::vector<MailServer> mailServers;
  std::string allocateServer;    // URL of the seed 001 allocate contract
  std::string apiServer;         // host:port of the apiserver (control link)
  std::string ip;                // public IP announced (TURN relay address, media candidates)
  std::string directory;         // fsserver storage directory

  // --- Media plane (sfuserver) ---
  int mediaPort = 40000;         // worker i listens on UDP and TCP mediaPort + i; 0: ephemeral (tests)
  int mediaWorkers = 0;          // media worker threads; 0: one per core
  // Test hook (--test-packet-loss): share of forwarded RTP the sfuserver drops on purpose, in
  // percent, towards subscribers (downlink) and from publishers (uplink). 0: off.
  int testLossDownlinkPercent = 0;
  int testLossUplinkPercent = 0;

  // --- TURN relay (turnserver) ---
  bool turnAllowLoopbackPeers = false;  // relay to 127.0.0.0/8 and ::1 (tests, local benchmarks)
  int turnRelayPortMin = 49152;         // relay sockets take ports from this range
  int turnRelayPortMax = 65535;
  std::string turnAllowedPeers;         // comma-separated CIDR ranges relayed to despite the defaults
  std::string turnDeniedPeers;          // comma-separated CIDR ranges never relayed to
  int turnWorkers = 0;                  // TURN worker threads; 0: one per core
  std::string turnRealm = "meeting";    // long-term credential realm (RFC 8489 §9.2)
  int64_t turnBandwidth = 0;            // bytes per second per allocation; 0: unlimited
  int turnMaxAllocationsPerUser = 10;  // --user-quota: 486 beyond
  int turnMaxAllocationsTotal = 5000;  // --total-quota: 508 beyond
  int turnMaxLifetime = 3600;          // --max-lifetime: seconds an allocation lives without Refresh

  // --- Files (fsserver; sizes in bytes) ---
  uint64_t fsMaxFileBytes = 2ull << 30;     // --fs-max-file-size: no single file above this
  uint64_t fsRoomQuotaBytes = 10ull << 30;  // --fs-room-quota: per room; 0: unlimited
  uint64_t fsTotalQuotaBytes = 0;           // --fs-total-quota: whole store; 0: unlimited

  // --- Webhooks (apiserver) ---
  std::string webhookKey;               // HMAC key of Meeting-Signature; empty: derived from the secret
  bool allowPrivateWebhooks = false;    // webhook URLs may resolve to loopback/private/link-local

  // --- Operation ---
  std::string dataDir = "meeting-data";
  std::string listen;            // host:port of the HTTPS listener; empty: role default
  bool plainHttp = false;        // serve HTTP without TLS (behind a TLS-terminating proxy)
  std::string configFile;
  bool secretGenerated = false;  // no --secret: the all-in-one made one (development token endpoint on)
};

/// Parses seed 000's role JSON into `config`, validating as that document says.
/// Every error names the offending field, e.g. "roleid: must be an integer from 1 to 9999".
Result<void> applyRoleJson(const nlohmann::json& role, Config& config);

/// Reads and applies a role JSON file (see applyRoleJson); errors name the file and field.
Result<void> loadRoleFile(const std::string& path, Config& config);

/// Resolves an interface alias (a name such as "eth0", or an IPv4/IPv6 address) to an address.
/// `field` names the setting in the error.
Result<std::string> resolveInterface(const std::string& nameOrAddress, const std::string& field);

/// Resolves seed 000 path aliases: "alias://paths/NAME" becomes "<aliasRoot>/paths/NAME"; a plain
/// path is returned as it is.
std::string resolvePathAlias(const std::string& value, const std::string& aliasRoot);

/// True for a syntactically valid host:port with port 1..65535 (host may be [v6]).
bool isHostPort(const std::string& value);

}  // namespace meeting
