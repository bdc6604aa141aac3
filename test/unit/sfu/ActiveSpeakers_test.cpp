// Active-speaker detection with hand-driven time: AudioLevelMeter (per track, fed per packet)
// and ActiveSpeakerDetector (the room's list, sent only when it changes).
#include <gtest/gtest.h>

#include "sfu/room/ActiveSpeakerDetector.hpp"
#include "sfu/room/AudioLevelMeter.hpp"

namespace meeting::sfu {
namespace {
using namespace std::chrono_literals;

// Feeds `meter` one packet every 20 ms (Opus' usual frame) from `now` for `length`.
void talk(AudioLevelMeter& meter, TimePoint& now, Duration length, uint8_t level, bool vad) {
  for (auto end = now + length; now < end; now += 20ms) meter.onLevel(level, vad, now);
}

TEST(AudioLevelMeter, SpeechForHalfASecondSpeaksAndNoiseDoesNot) {
  TimePoint now{10s};
  AudioLevelMeter speech;
  AudioLevelMeter noise;
  TimePoint t = now;
  talk(speech, t, 600ms, 30, true);
  t = now;
  talk(noise, t, 600ms, 70, false);
  EXPECT_TRUE(speech.evaluate(t));
  EXPECT_DOUBLE_EQ(speech.level(), 0.5) << "-30 dBov";
  EXPECT_EQ(speech.meanLevel(), 30);
  EXPECT_FALSE(noise.evaluate(t));
  EXPECT_EQ(noise.meanLevel(), 127);
  EXPECT_DOUBLE_EQ(noise.level(), 0.0);
}

TEST(AudioLevelMeter, AShortSoundIsNotSpeech) {
  AudioLevelMeter meter;
  TimePoint now{10s};
  talk(meter, now, 150ms, 20, true);  // a cough, a door
  talk(meter, now, 350ms, 127, false);
  EXPECT_FALSE(meter.evaluate(now));
}

TEST(AudioLevelMeter, PausesBetweenWordsKeepASpeakerAndSilenceEndsIt) {
  AudioLevelMeter meter;
  TimePoint now{10s};
  talk(meter, now, 500ms, 35, true);
  ASSERT_TRUE(meter.evaluate(now));
  // Words of 150 ms with 250 ms gaps: well under "most of the window", still speaking.
  for (int i = 0; i < 5; ++i) {
    talk(meter, now, 250ms, 127, false);
    EXPECT_TRUE(meter.evaluate(now)) << i;
    talk(meter, now, 150ms, 35, true);
    EXPECT_TRUE(meter.evaluate(now)) << i;
  }
  talk(meter, now, 500ms, 127, false);
  EXPECT_FALSE(meter.evaluate(now));
  // Short sounds with long gaps from silence do not start speaking.
  for (int i = 0; i < 3; ++i) {
    talk(meter, now, 400ms, 127, false);
    talk(meter, now, 100ms, 35, true);
    EXPECT_FALSE(meter.evaluate(now)) << i;
  }
}

TEST(AudioLevelMeter, NoPacketsAtAllIsSilence) {
  AudioLevelMeter meter;
  TimePoint now{10s};
  talk(meter, now, 500ms, 30, true);
  ASSERT_TRUE(meter.evaluate(now));
  now += 2s;  // the sender stopped (DTX, muted with the track removed, network gone)
  EXPECT_FALSE(meter.evaluate(now));
}

TEST(AudioLevelMeter, TheVoiceActivityBitDecidesOnceTheSenderUsesIt) {
  AudioLevelMeter meter;
  TimePoint now{10s};
  meter.onLevel(40, true, now);  // the sender sets V: it runs a voice activity detector
  now += 20ms;
  talk(meter, now, 600ms, 25, false);  // loud but not voice (music, typing)
  EXPECT_FALSE(meter.evaluate(now));
  talk(meter, now, 600ms, 25, true);
  EXPECT_TRUE(meter.evaluate(now));

  AudioLevelMeter vadOff;
  vadOff.ignoreVoiceActivityBit();  // a=extmap:... ssrc-audio-level vad=off
  vadOff.onLevel(40, true, now);
  talk(vadOff, now, 600ms, 25, false);
  EXPECT_TRUE(vadOff.evaluate(now)) << "with vad=off the bit means nothing: level alone";
}

TEST(AudioLevelMeter, ResetForgetsTheWindow) {
  AudioLevelMeter meter;
  TimePoint now{10s};
  talk(meter, now, 500ms, 30, true);
  ASSERT_TRUE(meter.evaluate(now));
  meter.reset();
  EXPECT_FALSE(meter.speaking());
  EXPECT_FALSE(meter.evaluate(now));
}

TEST(AudioLevelMeter, OldSlotsDoNotCountAfterTheClockMovesOn) {
  AudioLevelMeter meter;
  TimePoint now{10s};
  talk(meter, now, 500ms, 30, true);
  // Exactly one window later the ring's slots hold the old indexes: they must not count.
  now += 500ms;
  meter.onLevel(127, false, now);
  EXPECT_FALSE(meter.evaluate(now));
}

TEST(ActiveSpeakerDetector, SendsTheSortedListOnlyWhenItChanges) {
  ActiveSpeakerDetector detector;
  EXPECT_FALSE(detector.finish()) << "nobody speaking, nobody was: nothing to send";

  detector.add("bob", 0.4);
  detector.add("alice", 0.7);
  auto list = detector.finish();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].identity, "alice") << "loudest first";
  EXPECT_EQ((*list)[1].identity, "bob");

  detector.add("alice", 0.65);  // levels move, same people in the same order
  detector.add("bob", 0.45);
  EXPECT_FALSE(detector.finish());
  EXPECT_DOUBLE_EQ(detector.current()[0].level, 0.65) << "the snapshot has the newest levels";

  detector.add("alice", 0.3);  // bob is louder now
  detector.add("bob", 0.5);
  list = detector.finish();
  ASSERT_TRUE(list);
  EXPECT_EQ((*list)[0].identity, "bob");

  list = detector.finish();  // silence starts: an empty list, once
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->empty());
  EXPECT_FALSE(detector.finish());
  EXPECT_FALSE(detector.contains("bob"));
}

TEST(ActiveSpeakerDetector, EqualLevelsKeepAStableOrder) {
  ActiveSpeakerDetector detector;
  detector.add("b", 0.5);
  detector.add("a", 0.5);
  auto list = detector.finish();
  ASSERT_TRUE(list);
  EXPECT_EQ((*list)[0].identity, "a");
  detector.add("a", 0.5);
  detector.add("b", 0.5);
  EXPECT_FALSE(detector.finish());
}

}  // namespace
}  // namespace meeting::sfu
