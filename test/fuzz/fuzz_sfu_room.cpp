// Any text as a signaling message from a room's participants (an admin and a publisher): the
// room answers or ignores it and never crashes, whatever the JSON holds. One room on a real
// media worker lives for the whole run; a participant that left is joined again. "$T" in the
// input stands for the id of a track b published (ids are random, the fuzzer cannot guess them).
#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>
#include <string>

#include "sfu/room/Room.hpp"

namespace {
using namespace meeting;

struct Fixture {
  std::unique_ptr<sfu::MediaWorker> worker;
  std::unique_ptr<sfu::Room> room;
  uint64_t nextConnection = 1;
  std::string trackId = "TR_none";  // written on the worker thread, read there too

  Fixture() {
    auto created = sfu::MediaWorker::create(sfu::MediaWorkerOptions{0, "127.0.0.1", 0, {}});
    if (!created) std::abort();
    worker = std::move(*created);
    run([this] {
      room = std::make_unique<sfu::Room>(*worker, "fuzz", sfu::RoomSettings{});
      ensure("a", true);
      ensure("b", false);
      // b publishes Chromium's audio + video offer, so that muting and pausing have targets.
      std::string path = __FILE__;
      path = path.substr(0, path.rfind('/')) + "/../data/sdp/captured/chromium156_publishOffer.sdp";
      std::ifstream in(path);
      std::stringstream sdp;
      sdp << in.rdbuf();
      nlohmann::json publish = {{"type", "publish"}, {"sdp", sdp.str()}};
      room->handleMessage("b", room->connectionOf("b"), publish.dump());
    });
  }

  template <typename F>
  void run(F&& f) {
    std::promise<void> done;
    worker->loop().post([&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  void ensure(const std::string& identity, bool admin) {
    if (room->connectionOf(identity) != 0) return;
    token::AccessClaims claims;
    claims.room = "fuzz";
    claims.identity = identity;
    claims.displayName = identity;
    claims.grants.roomAdmin = admin;
    (void)room->join(claims, nextConnection++, [this](std::string text) {
      // Whatever the room says must be JSON itself.
      auto message = nlohmann::json::parse(text, nullptr, false);
      if (message.is_discarded()) std::abort();
      if (!message.is_object()) std::abort();
      if (message["type"] == "trackPublished" && message["identity"] == "b") trackId = message["track"]["id"];
    });
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* fixture = new Fixture();  // lives for the run (the worker thread uses it)
  std::string text(reinterpret_cast<const char*>(data), size);
  fixture->run([&] {
    for (size_t at = text.find("$T"); at != std::string::npos; at = text.find("$T", at + 1)) {
      text.replace(at, 2, fixture->trackId);
    }
    for (const char* identity : {"a", "b"}) {
      fixture->ensure(identity, identity[0] == 'a');
      fixture->room->handleMessage(identity, fixture->room->connectionOf(identity), text);
    }
  });
  return 0;
}
