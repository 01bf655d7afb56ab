// The numbered message types of every service, in one small header.
//
// A message type is a u16 on the wire (frame header, docs/wire-format.md). Each
// service owns a range; a service adds its types here, inside its range, and
// never renumbers or reuses a number (daemons of adjacent releases must agree).
// The messenger's own control frames sit in [0, 16) and never reach a dispatcher.
//
// Thread-safety: constants only.
#pragma once

#include <cstdint>

namespace cairn::msg {

using MsgType = uint16_t;

// Ranges per service: [first, last].
inline constexpr MsgType kControlFirst = 0x0000, kControlLast = 0x000F;
inline constexpr MsgType kTestFirst = 0x0010, kTestLast = 0x00FF;  // tests and benchmarks
inline constexpr MsgType kMonFirst = 0x0100, kMonLast = 0x01FF;
inline constexpr MsgType kOsdFirst = 0x0200, kOsdLast = 0x02FF;        // osd <-> osd, osd -> mon
inline constexpr MsgType kClientFirst = 0x0300, kClientLast = 0x03FF;  // client <-> osd
inline constexpr MsgType kMdsFirst = 0x0400, kMdsLast = 0x04FF;

// ---- messenger control frames (internal to msg/) ----
inline constexpr MsgType kMsgHello = 0x0001;         // handshake, both directions
inline constexpr MsgType kMsgAck = 0x0002;           // lossless: "received up to ack_seq"
inline constexpr MsgType kMsgKeepalive = 0x0003;     // liveness probe
inline constexpr MsgType kMsgKeepaliveAck = 0x0004;  // reply to a probe
inline constexpr MsgType kMsgClose = 0x0005;         // orderly close (reason in front)

inline constexpr bool is_control(MsgType t) { return t <= kControlLast; }

// ---- tests and benchmarks ----
inline constexpr MsgType kMsgTestPing = 0x0010;
inline constexpr MsgType kMsgTestPong = 0x0011;
inline constexpr MsgType kMsgTestData = 0x0012;

// ---- mon (0x0100..0x01FF): schemas in msg/mon_messages.h ----
inline constexpr MsgType kMsgMonPaxos = 0x0100;         // mon <-> mon: mon::PaxosMsg
inline constexpr MsgType kMsgMonCommand = 0x0101;       // request: MonCommandMsg
inline constexpr MsgType kMsgMonCommandReply = 0x0102;  // reply: MonCommandReplyMsg
inline constexpr MsgType kMsgMonSubscribe = 0x0103;     // MonSubscribeMsg
inline constexpr MsgType kMsgOsdMap = 0x0104;           // mon -> subscriber: OsdMapMsg
inline constexpr MsgType kMsgOsdBoot = 0x0105;          // request: OsdBootMsg, reply OsdAckMsg
inline constexpr MsgType kMsgOsdFailure = 0x0106;       // OsdFailureMsg
inline constexpr MsgType kMsgOsdBeacon = 0x0107;        // OsdBeaconMsg
inline constexpr MsgType kMsgOsdAlive = 0x0108;         // request: OsdAliveMsg, reply OsdAckMsg
inline constexpr MsgType kMsgOsdAck = 0x0109;           // reply to boot/alive
inline constexpr MsgType kMsgOsdStats = 0x010A;         // OsdStatsMsg
inline constexpr MsgType kMsgMonGetOsdMaps = 0x010B;    // request: MonGetOsdMapsMsg, reply OsdMapMsg
inline constexpr MsgType kMsgOsdPgTemp = 0x010C;        // request: OsdPgTempMsg, reply OsdAckMsg
// ---- osd <-> osd (0x0200..0x02FF): schemas in msg/osd_messages.h ----
inline constexpr MsgType kMsgRepOp = 0x0200;       // primary -> replica: RepOpMsg
inline constexpr MsgType kMsgRepOpReply = 0x0201;  // replica -> primary: RepOpReplyMsg
inline constexpr MsgType kMsgOsdPing = 0x0202;     // OsdPingMsg, both directions
inline constexpr MsgType kMsgPgInfo = 0x0203;      // PgInfoMsg, query and answer
inline constexpr MsgType kMsgPgScan = 0x0204;      // PgScanMsg, query and answer
inline constexpr MsgType kMsgPgPull = 0x0205;      // PgPullMsg: primary -> replica, "push me this object"
// ---- client <-> osd (0x0300..0x03FF): schemas in msg/osd_messages.h ----
inline constexpr MsgType kMsgOsdOp = 0x0300;        // request: OsdOpMsg
inline constexpr MsgType kMsgOsdOpReply = 0x0301;   // reply: OsdOpReplyMsg (outdata in the data segment)
inline constexpr MsgType kMsgWatchNotify = 0x0302;  // osd -> client: WatchNotifyMsg

}  // namespace cairn::msg
