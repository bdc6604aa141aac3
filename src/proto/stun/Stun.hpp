#pragma once
// Front door of the STUN/TURN wire codec (namespace meeting::proto::stun): parse with
// StunMessage::parse(), check with verifyMessageIntegrity()/verifyFingerprint(), answer with
// StunBuilder, relay with the ChannelData helpers. Pure codec: no I/O, no exceptions.
#include "proto/stun/ChannelData.hpp"
#include "proto/stun/StunBuilder.hpp"
#include "proto/stun/StunIntegrity.hpp"
#include "proto/stun/StunMessage.hpp"
#include "proto/stun/StunTypes.hpp"
