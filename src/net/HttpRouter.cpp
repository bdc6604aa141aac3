#include "net/HttpRouter.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

namespace meeting::net {
namespace {

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    parts.emplace_back(path.substr(i, end - i));
    i = end;
  }
  return parts;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string HttpRequestContext::queryValue(const std::string& key) const {
  auto it = query.find(key);
  return it == query.end() ? std::string{} : it->second;
}

std::string HttpRequestContext::bearerToken() const {
  auto it = request.find(http::field::authorization);
  if (it == request.end()) return {};
  std::string_view value(it->value().data(), it->value().size());
  constexpr std::string_view kPrefix = "Bearer ";
  if (value.size() <= kPrefix.size() || value.substr(0, kPrefix.size()) != kPrefix) return {};
  return std::string(value.substr(kPrefix.size()));
}

void HttpResponder::operator()(HttpResponse&& response) const { send_(std::move(response)); }

FileBody::~FileBody() {
  if (fd >= 0) ::close(fd);
}

uint64_t FileBody::size() const {
  uint64_t total = 0;
  for (const auto& p : pieces) total += p.text.empty() ? p.length : p.text.size();
  return total;
}

void HttpResponder::sendFile(HttpResponse&& head, std::shared_ptr<FileBody> body) const {
  if (sendFile_) return sendFile_(std::move(head), std::move(body));
  // No streaming path (e.g. a responder built by a test): read the body into memory.
  std::string out;
  out.reserve(body->size());
  for (const auto& p : body->pieces) {
    if (!p.text.empty()) {
      out += p.text;
      continue;
    }
    size_t start = out.size();
    out.resize(start + p.length);
    uint64_t done = 0;
    while (done < p.length) {
      ssize_t n = ::pread(body->fd, out.data() + start + done, p.length - done, static_cast<off_t>(p.offset + done));
      if (n <= 0) {
        return send_(jsonError(http::status::internal_server_error, "read_failed", "cannot read the file"));
      }
      done += static_cast<uint64_t>(n);
    }
  }
  head.body() = std::move(out);
  send_(std::move(head));
}

std::optional<std::string> percentDecode(std::string_view text, bool plusIsSpace) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = hexValue(text[i + 1]), lo = hexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi << 4 | lo);
      i += 2;
    } else if (c == '+' && plusIsSpace) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::multimap<std::string, std::string> parseQuery(std::string_view query) {
  std::multimap<std::string, std::string> out;
  size_t i = 0;
  while (i <= query.size() && out.size() < 256) {
    size_t end = query.find('&', i);
    if (end == std::string_view::npos) end = query.size();
    auto pair = query.substr(i, end - i);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      auto key = percentDecode(pair.substr(0, eq), true);
      auto value = eq == std::string_view::npos ? std::optional<std::string>("") : percentDecode(pair.substr(eq + 1), true);
      if (key && value) out.emplace(std::move(*key), std::move(*value));
    }
    i = end + 1;
  }
  return out;
}

void HttpRouter::add(http::verb method, const std::string& pattern, HttpHandler handler, RouteOptions options) {
  routes_.push_back(Route{method, splitPath(pattern), pattern, std::move(handler), nullptr, options, nullptr});
}

void HttpRouter::addStreaming(http::verb method, const std::string& pattern, HttpStreamHandler handler,
                              RouteOptions options) {
  routes_.push_back(Route{method, splitPath(pattern), pattern, nullptr, nullptr, options,
                          std::make_shared<HttpStreamHandler>(std::move(handler))});
}

void HttpRouter::addSync(http::verb method, const std::string& pattern, HttpSyncHandler handler, RouteOptions options) {
  add(method, pattern,
      [handler = std::move(handler)](HttpRequestContext& ctx, HttpResponder respond) { respond(handler(ctx)); },
      options);
}

void HttpRouter::addWebSocket(const std::string& pattern, WebSocketRoute route) {
  routes_.push_back(Route{std::nullopt, splitPath(pattern), pattern, nullptr,
                          std::make_shared<WebSocketRoute>(std::move(route)), RouteOptions{}, nullptr});
}

bool HttpRouter::matchSegments(const Route& route, const std::vector<std::string>& parts,
                               std::map<std::string, std::string>& params) {
  const auto& segs = route.segments;
  for (size_t i = 0; i < segs.size(); ++i) {
    if (segs[i] == "*") {
      std::string rest;
      for (size_t j = i; j < parts.size(); ++j) rest += (j > i ? "/" : "") + parts[j];
      params["*"] = rest;
      return true;
    }
    if (i >= parts.size()) return false;
    if (segs[i].size() > 2 && segs[i].front() == '{' && segs[i].back() == '}') {
      params[segs[i].substr(1, segs[i].size() - 2)] = parts[i];
    } else if (segs[i] != parts[i]) {
      return false;
    }
  }
  return segs.size() == parts.size();
}

HttpRouter::Match HttpRouter::match(http::verb method, const std::string& path, bool webSocketUpgrade) const {
  Match result;
  auto parts = splitPath(path);
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    if (!matchSegments(route, parts, params)) continue;
    if (route.webSocket) {
      if (!webSocketUpgrade) continue;
      result.kind = Match::Kind::Found;
      result.webSocket = route.webSocket.get();
    } else {
      bool methodOk = *route.method == method || (method == http::verb::head && *route.method == http::verb::get);
      if (!methodOk) {
        result.kind = Match::Kind::MethodNotAllowed;
        if (!result.allowed.empty()) result.allowed += ", ";
        result.allowed += std::string(http::to_string(*route.method));
        continue;
      }
      result.kind = Match::Kind::Found;
      result.handler = &route.handler;
      result.stream = route.stream.get();
    }
    result.options = route.options;
    result.pattern = route.pattern;
    result.params = std::move(params);
    return result;
  }
  return result;
}

std::vector<std::pair<std::string, std::string>> HttpRouter::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : routes_) {
    out.emplace_back(r.method ? std::string(http::to_string(*r.method)) : "WEBSOCKET", r.pattern);
  }
  return out;
}

HttpResponse jsonResponse(http::status status, std::string body) {
  HttpResponse res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

HttpResponse jsonError(http::status status, const std::string& code, const std::string& message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  return jsonResponse(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse textResponse(http::status status, std::string body, const std::string& contentType) {
  HttpResponse res{status, 11};
  res.set(http::field::content_type, contentType);
  res.body() = std::move(body);
  return res;
}

}  // namespace meeting::net
