#include "common/Config.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cctype>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace meeting {
namespace {

using nlohmann::json;

Error fieldError(const std::string& field, const std::string& what) {
  return makeError("invalid_config", field + ": " + what);
}

// Seed 000 marks these required; `separate`, `license_path`, `cert_domain` included.
const char* const kRequired[] = {"name", "roletype", "iface", "roleid", "separate", "group",
                                 "order", "port", "license_path", "cert_domain"};

const std::set<std::string> kKnownFields = {
    "name", "roletype", "iface", "ext", "enabled", "roleid", "separate", "group", "order",
    "include_domains", "listeniface", "announcediface", "port", "license_path", "monitoring_enabled",
    "report_password", "cert_domain", "certdir", "turn_iface", "turn_port", "turn_port_tls",
    "turn_certdir", "listeniface_http", "port_http", "default_domain", "log_level"};

Result<std::string> getString(const json& j, const char* field) {
  const auto& v = j.at(field);
  if (!v.is_string()) return fieldError(field, "must be a string");
  return v.get<std::string>();
}

Result<int64_t> getInt(const json& j, const char* field, int64_t min, int64_t max) {
  const auto& v = j.at(field);
  if (!v.is_number_integer()) return fieldError(field, "must be an integer");
  auto n = v.get<int64_t>();
  if (n < min || n > max) {
    return fieldError(field, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

Result<bool> getBool(const json& j, const char* field) {
  const auto& v = j.at(field);
  if (!v.is_boolean()) return fieldError(field, "must be true or false");
  return v.get<bool>();
}

bool validName(const std::string& s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) || c > 127) return false;
  }
  return true;
}

// An interface alias is an interface name or an address; resolution happens at start.
bool validInterfaceAlias(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s) {
    if (!(std::isalnum(c) || c == '.' || c == ':' || c == '-' || c == '_' || c == '%')) return false;
  }
  return true;
}

// Applies an optional field when present; `apply` returns Result<void>.
template <typename Fn>
Result<void> optional(const json& j, const char* field, Fn&& apply) {
  if (!j.contains(field) || j.at(field).is_null()) return {};
  return apply();
}

}  // namespace

Result<void> applyRoleJson(const json& role, Config& c) {
  if (!role.is_object()) return makeError("invalid_config", "role configuration must be a JSON object");
  for (const char* field : kRequired) {
    if (!role.contains(field)) return fieldError(field, "is required");
  }
  for (const auto& [key, _] : role.items()) {
    if (!kKnownFields.count(key)) return fieldError(key, "is not a known field of the meet role");
  }

  auto name = getString(role, "name");
  if (!name) return name.error();
  if (!validName(*name)) return fieldError("name", "must be Latin letters and digits, starting with a letter");
  auto roleType = getString(role, "roletype");
  if (!roleType) return roleType.error();
  if (*roleType != "meet") return fieldError("roletype", "must be \"meet\"");
  auto iface = getString(role, "iface");
  if (!iface) return iface.error();
  if (!validInterfaceAlias(*iface)) return fieldError("iface", "must be an interface name or an address");
  // Seed 000's table says 1..9999, but its own example node (which must load unchanged) uses
  // 11420, its group number; we accept the group range so that the example is valid.
  auto roleId = getInt(role, "roleid", 1, 9999999);
  if (!roleId) return roleId.error();
  auto separate = getBool(role, "separate");
  if (!separate) return separate.error();
  auto group = getInt(role, "group", 1, 9999999);
  if (!group) return group.error();
  auto order = getInt(role, "order", 0, 1000000);
  if (!order) return order.error();
  auto port = getInt(role, "port", 1, 65535);
  if (!port) return port.error();
  auto license = getString(role, "license_path");
  if (!license) return license.error();
  auto certDomain = getString(role, "cert_domain");
  if (!certDomain) return certDomain.error();
  if (certDomain->empty()) return fieldError("cert_domain", "must not be empty");

  c.name = *name;
  c.roleType = *roleType;
  c.iface = *iface;
  c.roleId = static_cast<int>(*roleId);
  c.separate = *separate;
  c.group = static_cast<int>(*group);
  c.order = static_cast<int>(*order);
  c.port = static_cast<int>(*port);
  c.licensePath = *license;
  c.certDomain = *certDomain;
  c.listenIface = c.iface;  // seed 000: default is the node's interface
  c.announcedIface = c.iface;
  c.turnIface = c.iface;

  auto str = [&](const char* field, std::string& out, bool isInterface = false) {
    return optional(role, field, [&]() -> Result<void> {
      auto v = getString(role, field);
      if (!v) return v.error();
      if (isInterface && !validInterfaceAlias(*v)) return fieldError(field, "must be an interface name or an address");
      out = *v;
      return {};
    });
  };
  auto integer = [&](const char* field, int& out, int64_t min, int64_t max) {
    return optional(role, field, [&]() -> Result<void> {
      auto v = getInt(role, field, min, max);
      if (!v) return v.error();
      out = static_cast<int>(*v);
      return {};
    });
  };
  auto boolean = [&](const char* field, bool& out) {
    return optional(role, field, [&]() -> Result<void> {
      auto v = getBool(role, field);
      if (!v) return v.error();
      out = *v;
      return {};
    });
  };

  for (auto r : {str("listeniface", c.listenIface, true), str("announcediface", c.announcedIface, true),
                 str("turn_iface", c.turnIface, true), str("listeniface_http", c.listenIfaceHttp, true),
                 str("certdir", c.certDir), str("turn_certdir", c.turnCertDir),
                 str("report_password", c.reportPassword), str("default_domain", c.defaultDomain),
                 integer("turn_port", c.turnPort, 0, 65535), integer("turn_port_tls", c.turnPortTls, 0, 65535),
                 integer("port_http", c.portHttp, 0, 65535), boolean("enabled", c.enabled),
                 boolean("monitoring_enabled", c.monitoringEnabled)}) {
    if (!r) return r;
  }

  if (role.contains("log_level")) {
    const auto& v = role.at("log_level");
    if (v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= 5) {
      c.logLevel = std::to_string(v.get<int64_t>());
    } else if (v.is_string()) {
      c.logLevel = v.get<std::string>();
    } else {
      return fieldError("log_level", "must be an integer from 0 to 5 or a level name");
    }
  }
  if (role.contains("ext")) {
    const auto& v = role.at("ext");
    if (!v.is_object() && !v.is_array() && !v.is_null()) return fieldError("ext", "must be a JSON object or list");
    c.ext = v;
  }
  if (role.contains("include_domains")) {
    const auto& v = role.at("include_domains");
    if (!v.is_array()) return fieldError("include_domains", "must be a list of domain names");
    c.includeDomains.clear();
    for (const auto& d : v) {
      if (!d.is_string() || d.get<std::string>().empty()) {
        return fieldError("include_domains", "must be a list of non-empty domain names");
      }
      c.includeDomains.push_back(d.get<std::string>());
    }
  }
  if (c.monitoringEnabled && role.contains("report_password") && c.reportPassword.empty()) {
    return fieldError("report_password", "must not be empty when monitoring is enabled");
  }
  return {};
}

Result<void> loadRoleFile(const std::string& path, Config& config) {
  std::ifstream in(path);
  if (!in) return makeError("invalid_config", "--config: cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto parsed = json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return makeError("invalid_config", "--config: " + path + " is not valid JSON");
  // A configuration may describe the role directly or as {"roles": [...]} with one meet role.
  if (parsed.is_object() && parsed.contains("roles") && parsed["roles"].is_array()) {
    for (const auto& role : parsed["roles"]) {
      if (role.is_object() && role.value("roletype", "") == "meet") {
        auto r = applyRoleJson(role, config);
        if (!r) return makeError(r.error().code, path + ": " + r.error().message);
        config.configFile = path;
        return {};
      }
    }
    return makeError("invalid_config", path + ": roles: no role with roletype \"meet\"");
  }
  auto r = applyRoleJson(parsed, config);
  if (!r) return makeError(r.error().code, path + ": " + r.error().message);
  config.configFile = path;
  return {};
}

Result<std::string> resolveInterface(const std::string& nameOrAddress, const std::string& field) {
  in6_addr v6{};
  in_addr v4{};
  if (inet_pton(AF_INET, nameOrAddress.c_str(), &v4) == 1) return nameOrAddress;
  if (inet_pton(AF_INET6, nameOrAddress.c_str(), &v6) == 1) return nameOrAddress;
  if (nameOrAddress == "*" || nameOrAddress == "any") return std::string("0.0.0.0");

  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return fieldError(field, "cannot list network interfaces");
  std::string v4Found, v6Found;
  bool exists = false;
  for (auto* it = list; it; it = it->ifa_next) {
    if (!it->ifa_name || nameOrAddress != it->ifa_name) continue;
    exists = true;
    if (!it->ifa_addr) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (it->ifa_addr->sa_family == AF_INET && v4Found.empty()) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(it->ifa_addr)->sin_addr, text, sizeof text);
      v4Found = text;
    } else if (it->ifa_addr->sa_family == AF_INET6 && v6Found.empty()) {
      auto* a = reinterpret_cast<sockaddr_in6*>(it->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr)) continue;  // not reachable without a scope
      inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
      v6Found = text;
    }
  }
  freeifaddrs(list);
  if (!v4Found.empty()) return v4Found;  // IPv4 first: browsers in test namespaces reach it
  if (!v6Found.empty()) return v6Found;
  if (exists) return fieldError(field, "interface " + nameOrAddress + " has no usable address");
  return fieldError(field, "no network interface named " + nameOrAddress);
}

std::string resolvePathAlias(const std::string& value, const std::string& aliasRoot) {
  constexpr std::string_view kPrefix = "alias://";
  if (value.rfind(kPrefix, 0) != 0) return value;
  return aliasRoot + "/" + value.substr(kPrefix.size());
}

bool isHostPort(const std::string& value) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string host = value.substr(0, colon);
  if (host.front() == '[' && host.back() != ']') return false;
  int port = 0;
  auto portText = std::string_view(value).substr(colon + 1);
  auto [ptr, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  return ec == std::errc() && ptr == portText.data() + portText.size() && port >= 1 && port <= 65535;
}

}  // namespace meeting
