// Download throughput of the fsserver on loopback: one 200 MiB file fetched whole over plain
// HTTP (the listener behind a TLS-terminating proxy: sendfile(2) when the kernel lets us) and
// over HTTPS (OpenSSL, 64 KiB pieces read and encrypted in user space). The client runs in the
// same process and discards the bytes, so the numbers include its reading cost too.
// Files live on /dev/shm when it exists (page-cache speed, as a warm disk would give).
//
// Besides MiB/s (bytes_per_second) each case reports CPU seconds per GiB served, which a shared,
// loaded machine changes far less than throughput: `server_cpu_s_per_GiB` is the CPU time of the
// server's loop thread alone (CLOCK_THREAD_CPUTIME_ID read on that thread), `process_cpu_s_per_GiB`
// adds the in-process client (getrusage, user + system).
#include <benchmark/benchmark.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <memory>
#include <vector>

#include "common/SignedUrl.hpp"
#include "fs/FileServer.hpp"
#include "net/HttpServer.hpp"
#include "net/Tls.hpp"

namespace {

using namespace meeting;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace su = signedurl;
using tcp = asio::ip::tcp;

constexpr const char* Secret = "bench-secret";
constexpr uint64_t FileBytes = 200ull << 20;

// One FileServer with one stored file, served by a plain and a TLS listener on one loop thread.
struct Fixture {
  std::string dir;
  std::unique_ptr<net::EventLoopThread> thread;
  net::HttpRouter router;
  std::unique_ptr<fs::FileServer> files;
  std::unique_ptr<net::HttpServer> plain, streamed, tls;  // sendfile / 64 KiB pieces / TLS
  std::string id;

  Fixture() {
    std::string base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path().string();
    dir = base + "/meeting-fs-bench-" + std::to_string(::getpid());
    fs::FileServerOptions o;
    o.secret = Secret;
    o.directory = dir;
    o.limits = fs::StoreLimits{4ull << 30, 0, 0};
    auto created = fs::FileServer::create(o, SystemClock::instance());
    files = std::move(*created);
    files->registerRoutes(router);
    id = su::newFileId();
    fs::FileMeta draft;
    draft.id = id;
    draft.room = "bench";
    draft.name = "big.bin";
    draft.contentType = "text/plain";
    auto begun = files->store().beginUpload(draft, FileBytes, FileBytes);
    auto upload = std::move(*begun);
    std::vector<char> chunk(1 << 20, 'x');
    for (uint64_t done = 0; done < FileBytes; done += chunk.size()) (void)upload->write({chunk.data(), chunk.size()});
    (void)upload->commit();

    auto identity = net::generateSelfSigned({"127.0.0.1"}, 2);
    auto context = net::makeServerContext(*identity);
    thread = std::make_unique<net::EventLoopThread>("bench-fs");
    std::promise<void> started;
    thread->loop().post([&] {
      net::HttpServerOptions options;
      options.accessLog = false;
      plain = std::make_unique<net::HttpServer>(thread->loop(), router, options);
      (void)plain->start();
      options.zeroCopyFiles = false;  // the path plain HTTP took before sendfile
      streamed = std::make_unique<net::HttpServer>(thread->loop(), router, options);
      (void)streamed->start();
      options.tls = *context;
      tls = std::make_unique<net::HttpServer>(thread->loop(), router, options);
      (void)tls->start();
      started.set_value();
    });
    started.get_future().wait();
  }

  ~Fixture() {
    std::promise<void> stopped;
    thread->loop().post([&] {
      plain->stop(std::chrono::seconds(1), [this, &stopped] {
        streamed->stop(std::chrono::seconds(1), [this, &stopped] {
          tls->stop(std::chrono::seconds(1), [&stopped] { stopped.set_value(); });
        });
      });
    });
    stopped.get_future().wait();
    thread.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  std::string target() const {
    su::Grant g{su::Operation::Download, id, "bench", 0, std::time(nullptr) + 3600, {}};
    return std::string(fs::FsPrefix) + "/files/" + id + "?" + *su::sign(g, Secret);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

double seconds(const timespec& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9; }

// CPU seconds the server's loop thread has used so far (read on that thread).
double serverCpuSeconds(Fixture& f) {
  std::promise<double> cpu;
  f.thread->loop().post([&cpu] {
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    cpu.set_value(seconds(t));
  });
  return cpu.get_future().get();
}

double processCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return tv(u.ru_utime) + tv(u.ru_stime);
}

// Brackets the timed loop: CPU per GiB of the server thread and of the whole process.
struct CpuPerGiB {
  explicit CpuPerGiB(Fixture& f) : fixture(f), server(serverCpuSeconds(f)), process(processCpuSeconds()) {}
  void report(benchmark::State& state) {
    const double gib = static_cast<double>(state.iterations()) * static_cast<double>(FileBytes) / double(1ull << 30);
    if (gib <= 0) return;
    state.counters["server_cpu_s_per_GiB"] = (serverCpuSeconds(fixture) - server) / gib;
    state.counters["process_cpu_s_per_GiB"] = (processCpuSeconds() - process) / gib;
  }
  Fixture& fixture;
  double server, process;
};

// Reads one whole response body into a reused buffer; returns the body bytes.
template <class Stream>
uint64_t fetch(Stream& stream, const std::string& target, std::vector<char>& chunk) {
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  http::read_header(stream, buf, parser);
  uint64_t got = 0;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    boost::system::error_code ec;
    http::read(stream, buf, parser, ec);
    if (ec && ec != http::error::need_buffer) break;
    got += chunk.size() - parser.get().body().size;
  }
  return got;
}

// state.range(0): 1 = sendfile(2), 0 = the 64 KiB pread+write path (before).
void BM_DownloadPlainHttp(benchmark::State& state) {
  auto& f = fixture();
  asio::io_context io;
  tcp::socket socket(io);
  auto& server = state.range(0) ? *f.plain : *f.streamed;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  std::vector<char> chunk(256 * 1024);
  const auto target = f.target();
  CpuPerGiB cpu(f);
  for (auto _ : state) {
    if (fetch(socket, target, chunk) != FileBytes) state.SkipWithError("short body");
  }
  cpu.report(state);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * FileBytes));
}
BENCHMARK(BM_DownloadPlainHttp)->ArgName("sendfile")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);

void BM_DownloadTls(benchmark::State& state) {
  auto& f = fixture();
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  asio::ssl::stream<tcp::socket> stream(io, ctx);
  stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.tls->port()));
  stream.handshake(asio::ssl::stream_base::client);
  std::vector<char> chunk(256 * 1024);
  const auto target = f.target();
  CpuPerGiB cpu(f);
  for (auto _ : state) {
    if (fetch(stream, target, chunk) != FileBytes) state.SkipWithError("short body");
  }
  cpu.report(state);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * FileBytes));
}
BENCHMARK(BM_DownloadTls)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);

}  // namespace
