#pragma once
// Reads a MIME message the way a mail client would, independently of the code that wrote it:
// headers (unfolded), multipart bodies split on their boundary, base64 bodies decoded; and an
// iCalendar text unfolded into (name with parameters, value) lines.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "unit/api/SmtpSink.hpp"

namespace meeting::api::test {

struct MimePart {
  std::multimap<std::string, std::string> headers;  ///< lower-case names
  std::string body;                                 ///< decoded
  std::vector<MimePart> parts;                      ///< multipart children

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
  }
  std::string contentType() const {
    auto ct = header("content-type");
    return ct.substr(0, ct.find(';'));
  }
  /// Depth-first search for the first part whose type is `type`.
  const MimePart* find(const std::string& type) const {
    if (contentType() == type) return this;
    for (const auto& p : parts) {
      if (const auto* f = p.find(type)) return f;
    }
    return nullptr;
  }
};

inline std::string mimeParam(const std::string& header, const std::string& name) {
  auto at = header.find(name + "=");
  if (at == std::string::npos) return {};
  std::string v = header.substr(at + name.size() + 1);
  if (!v.empty() && v[0] == '"') return v.substr(1, v.find('"', 1) - 1);
  return v.substr(0, v.find(';'));
}

inline MimePart parseMime(const std::string& text) {
  MimePart part;
  auto split = text.find("\r\n\r\n");
  std::string head = text.substr(0, split);
  std::string body = split == std::string::npos ? std::string{} : text.substr(split + 4);
  // Unfold (RFC 5322 §2.2.3) and split header fields.
  std::vector<std::string> fields;
  size_t pos = 0;
  while (pos < head.size()) {
    auto end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t') && !fields.empty()) {
      fields.back() += line;
    } else {
      fields.push_back(line);
    }
    pos = end + 2;
  }
  for (const auto& f : fields) {
    auto colon = f.find(':');
    if (colon == std::string::npos) continue;
    std::string name = f.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = f.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    part.headers.emplace(name, value);
  }
  const std::string type = part.header("content-type");
  if (type.rfind("multipart/", 0) == 0) {
    const std::string boundary = "--" + mimeParam(type, "boundary");
    size_t at = body.find(boundary);
    while (at != std::string::npos) {
      size_t start = at + boundary.size();
      if (body.compare(start, 2, "--") == 0) break;
      start += 2;  // CRLF after the boundary line
      size_t next = body.find("\r\n" + boundary, start);
      if (next == std::string::npos) break;
      part.parts.push_back(parseMime(body.substr(start, next - start)));
      at = next + 2;
    }
  } else if (part.header("content-transfer-encoding") == "base64") {
    std::string compact;
    for (char c : body) {
      if (c != '\r' && c != '\n') compact += c;
    }
    part.body = sinkBase64Decode(compact);
  } else {
    part.body = body;
  }
  return part;
}

/// iCalendar content lines after unfolding (RFC 5545 §3.1): {"ATTENDEE;...": "mailto:..."}.
inline std::vector<std::pair<std::string, std::string>> icsLines(const std::string& ics) {
  std::string unfolded;
  for (size_t i = 0; i < ics.size(); ++i) {
    if (ics.compare(i, 3, "\r\n ") == 0) {
      i += 2;
      continue;
    }
    unfolded += ics[i];
  }
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < unfolded.size()) {
    auto end = unfolded.find("\r\n", pos);
    if (end == std::string::npos) end = unfolded.size();
    std::string line = unfolded.substr(pos, end - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) out.emplace_back(line.substr(0, colon), line.substr(colon + 1));
    pos = end + 2;
  }
  return out;
}

/// The value of the first line named `name` (parameters ignored), "" when absent.
inline std::string icsValue(const std::vector<std::pair<std::string, std::string>>& lines, const std::string& name) {
  for (const auto& [key, value] : lines) {
    if (key.substr(0, key.find(';')) == name) return value;
  }
  return {};
}

inline std::vector<std::string> icsValues(const std::vector<std::pair<std::string, std::string>>& lines,
                                          const std::string& name) {
  std::vector<std::string> out;
  for (const auto& [key, value] : lines) {
    if (key.substr(0, key.find(';')) == name) out.push_back(value);
  }
  return out;
}

}  // namespace meeting::api::test
