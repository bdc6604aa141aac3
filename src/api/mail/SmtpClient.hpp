#pragma once
// Sends one message to one recipient over SMTP with libcurl (RFC 5321; STARTTLS RFC 3207; AUTH
// RFC 4954 with whatever mechanism the server offers and libcurl supports, PLAIN/LOGIN included).
// Blocking: call it from the mail thread only.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/Result.hpp"

namespace meeting::api::mail {

enum class TlsMode {
  Try,       ///< STARTTLS when the server offers it, else plain (CURLUSESSL_TRY; the default)
  Required,  ///< STARTTLS or fail (CURLUSESSL_ALL)
  Implicit,  ///< TLS from the first byte, "smtps" (RFC 8314 §3.3; port 465)
  None,      ///< never STARTTLS, even when offered (a relay on a trusted network or loopback)
};

/// "required", "opportunistic" (Try) or "none"; nullopt for anything else.
std::optional<TlsMode> parseTlsMode(std::string_view text);

/// One outgoing server (from --mailServer/--mailPort/--mailUsername/--mailFrom/--mailPassword and
/// the role file's ext.mail options, see mailServersFromConfig()).
struct SmtpServer {
  std::string host;
  int port = 587;
  std::string username;  ///< "" = no AUTH
  std::string password;
  std::string from;      ///< envelope sender and From header
  std::vector<std::string> domains;  ///< recipient domains routed here besides the From domain
  TlsMode tls = TlsMode::Try;
  bool verifyTls = true;   ///< check the server certificate and name when TLS is used
  std::string caFile;      ///< "" = the system's CA store
  std::chrono::milliseconds timeout{30'000};  ///< whole transaction
};

/// Error codes of SmtpClient::send().
namespace smtperr {
inline constexpr const char* Temporary = "smtp_temporary";  ///< retry later (4xx, network, TLS)
inline constexpr const char* Permanent = "smtp_permanent";  ///< 5xx on the message or recipient
}  // namespace smtperr

/// The seam the mail dispatcher sends through (tests may substitute it).
class MailTransport {
 public:
  virtual ~MailTransport() = default;
  /// Sends `message` (complete RFC 5322 text, CRLF line ends) from `server.from` to `recipient`.
  virtual Result<void> send(const SmtpServer& server, const std::string& recipient, const std::string& message) = 0;
};

/// libcurl implementation; one easy handle per send (mail is rare, connection reuse is not worth
/// a cache). Never throws.
class SmtpClient final : public MailTransport {
 public:
  SmtpClient();
  Result<void> send(const SmtpServer& server, const std::string& recipient, const std::string& message) override;
};

/// The server for `recipient`: the one whose From domain or one of whose `domains` equals the
/// recipient's domain or is a parent of it ("example.com" matches "a@dept.example.com"), the
/// longest such domain winning (ties: the earlier server); else the first server. nullptr when
/// `servers` is empty.
const SmtpServer* chooseServer(const std::vector<SmtpServer>& servers, std::string_view recipient);

}  // namespace meeting::api::mail
