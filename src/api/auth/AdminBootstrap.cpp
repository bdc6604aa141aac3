#include "api/auth/AdminBootstrap.hpp"

#include "api/auth/AccountJson.hpp"
#include "api/db/Secrets.hpp"
#include "common/Log.hpp"

namespace meeting::api::auth {

std::string defaultAdminEmail(const std::string& publicUrl) {
  std::string host;
  if (auto scheme = publicUrl.find("://"); scheme != std::string::npos) {
    host = publicUrl.substr(scheme + 3);
    host = host.substr(0, host.find_first_of("/?#"));
    if (auto at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
    if (!host.empty() && host.front() == '[') {
      host.clear();  // an IPv6 literal is no mail domain
    } else {
      host = host.substr(0, host.find(':'));
    }
  }
  bool ok = !host.empty() && host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
                                 std::string::npos;
  return "admin@" + (ok ? lowerEmail(host) : std::string("localhost"));
}

Result<bool> ensureAdministrator(db::Storage& storage, const PasswordHasher& hasher, const std::string& email,
                                 const std::string& publicUrl, std::ostream& out) {
  auto users = storage.listUsers(db::PageQuery{"", 1});
  if (!users) return users.error();
  if (!users->items.empty()) return false;
  // No look-alike characters: the password is read off a terminal and typed.
  const std::string password = db::secrets::randomString(16, "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789");
  auto hash = hasher.hash(password);
  if (!hash) return hash.error();
  db::User admin;
  admin.email = lowerEmail(email);
  admin.displayName = "Administrator";
  admin.passwordHash = *hash;
  admin.role = db::Role::Admin;
  auto created = storage.createUser(admin);
  if (!created) {
    // Another apiserver on the same database won the race: it printed the credentials.
    if (created.error().code == db::errc::Conflict) return false;
    return created.error();
  }
  std::string url = publicUrl.empty() ? std::string("/") : publicUrl;
  if (url.back() != '/') url += '/';  // the web app, which opens on its sign-in page
  out << "\n"
      << "==================================================================\n"
      << "  Administrator account created (shown only this once):\n"
      << "    sign in at: " << url << "\n"
      << "    e-mail:     " << admin.email << "\n"
      << "    password:   " << password << "\n"
      << "  Change the password after signing in.\n"
      << "==================================================================\n"
      << std::endl;
  // The password goes to the terminal only: logs are often shipped and kept where others read them.
  MLOG_WARN("first start: administrator {} created; its password was printed on standard output, once; sign in at {}",
            admin.email, url);
  return true;
}

}  // namespace meeting::api::auth
