#include "api/mail/SmtpClient.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include "api/mail/MimeMessage.hpp"

namespace meeting::api::mail {
namespace {

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t readMessage(char* buffer, size_t size, size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  const size_t room = size * count;
  const size_t n = std::min(room, up->data->size() - up->offset);
  std::memcpy(buffer, up->data->data() + up->offset, n);
  up->offset += n;
  return n;
}

bool domainMatches(const std::string& recipientDomain, std::string_view domain) {
  std::string d = addressDomain(std::string("@") + std::string(domain));
  if (d.empty() || recipientDomain.size() < d.size()) return false;
  if (recipientDomain == d) return true;
  return recipientDomain.size() > d.size() &&
         recipientDomain.compare(recipientDomain.size() - d.size(), d.size(), d) == 0 &&
         recipientDomain[recipientDomain.size() - d.size() - 1] == '.';
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

Error smtpError(CURLcode code, long response, const char* detail) {
  std::string message = std::string(detail[0] != '\0' ? detail : curl_easy_strerror(code));
  if (response > 0) message += " (SMTP " + std::to_string(response) + ")";
  // RFC 5321 §4.2.1: 5yz is a permanent failure, except that a refused login (535, RFC 4954 §6)
  // is the operator's to fix, so it is retried like a 4yz until the attempts run out.
  const bool permanent = response >= 500 && response < 600 && response != 535 && code != CURLE_LOGIN_DENIED;
  return makeError(permanent ? smtperr::Permanent : smtperr::Temporary, message);
}

}  // namespace

SmtpClient::SmtpClient() {
  // curl_global_init is not thread-safe in older libcurl: do it once, here.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Result<void> SmtpClient::send(const SmtpServer& server, const std::string& recipient, const std::string& message) {
  // libcurl wraps these in <> in MAIL FROM/RCPT TO; a validated address cannot add a command.
  if (!isMailAddress(server.from)) return makeError(smtperr::Permanent, "sender is not a safe mail address");
  if (!isMailAddress(recipient)) return makeError(smtperr::Permanent, "recipient is not a safe mail address");
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return makeError(smtperr::Temporary, "curl_easy_init failed");
  CURL* c = curl.get();
  const bool implicit = server.tls == TlsMode::Implicit;
  const std::string url = std::string(implicit ? "smtps://" : "smtp://") + server.host + ":" + std::to_string(server.port);
  const std::string from = "<" + server.from + ">";
  std::unique_ptr<curl_slist, SlistDeleter> rcpt(curl_slist_append(nullptr, ("<" + recipient + ">").c_str()));
  Upload upload{&message};
  char detail[CURL_ERROR_SIZE] = {};

  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(server.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(server.timeout.count(), 10'000)));
  if (!implicit) {
    const long use = server.tls == TlsMode::Required ? CURLUSESSL_ALL : server.tls == TlsMode::None ? CURLUSESSL_NONE : CURLUSESSL_TRY;
    curl_easy_setopt(c, CURLOPT_USE_SSL, use);
  }
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, server.verifyTls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, server.verifyTls ? 2L : 0L);
  if (!server.caFile.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, server.caFile.c_str());
  if (!server.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, server.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, server.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_READFUNCTION, readMessage);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));

  const CURLcode code = curl_easy_perform(c);
  long response = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response);
  if (code != CURLE_OK) return smtpError(code, response, detail);
  return {};
}

std::optional<TlsMode> parseTlsMode(std::string_view text) {
  if (text == "required") return TlsMode::Required;
  if (text == "opportunistic") return TlsMode::Try;
  if (text == "none") return TlsMode::None;
  return std::nullopt;
}

const SmtpServer* chooseServer(const std::vector<SmtpServer>& servers, std::string_view recipient) {
  if (servers.empty()) return nullptr;
  const std::string domain = addressDomain(recipient);
  // The most specific match wins, so "corp.example.com" (internal) beats "example.com" (external)
  // whatever the order of the flags; equal matches go to the earlier server.
  const SmtpServer* best = nullptr;
  size_t bestLength = 0;
  auto consider = [&](const SmtpServer& s, std::string_view d) {
    if (domainMatches(domain, d) && d.size() > bestLength) {
      best = &s;
      bestLength = d.size();
    }
  };
  for (const auto& s : servers) {
    consider(s, addressDomain(s.from));
    for (const auto& d : s.domains) consider(s, d);
  }
  return best != nullptr ? best : &servers.front();
}

}  // namespace meeting::api::mail
