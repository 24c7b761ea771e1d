#include "help_text.hpp"

namespace heartbeat::cli {

#define HEARTBEAT_COMMON_HELP                                                                      \
    "Durations take a unit: ms, s or m (250ms, 1.5s, 2m).\n"                                       \
    "Exit status: 0 after SIGINT/SIGTERM (or --for), 1 on a runtime failure, 2 on bad "            \
    "arguments.\n"

#define HEARTBEAT_JSON_INTRO                                                                       \
    "With --json, stdout carries one JSON object per line, flushed per line. Every object has\n"   \
    "  t_ms      integer milliseconds since the tool started (monotonic clock)\n"                  \
    "  event     the event name, one of those below\n"

const char* const main_help_footer = HEARTBEAT_COMMON_HELP
    "JSON events (--json): serve emits listening, peer_connected, peer_dead, peer_closed;\n"
    "watch emits connected, rtt, suspect, alive, dead, closed. Their fields are listed by\n"
    "'heartbeat serve --help' and 'heartbeat watch --help'.\n";

const char* const serve_help_footer = HEARTBEAT_COMMON_HELP
    "\n" HEARTBEAT_JSON_INTRO "then the event's own fields:\n"
    "  listening       {address}       the HOST:PORT actually bound (the chosen port for\n"
    "                                  port 0)\n"
    "  peer_connected  {peer}          a peer connected; peer is its remote HOST:PORT\n"
    "  peer_dead       {peer, reason, missed, silent_ms}\n"
    "                                  verdict on a peer: reason \"peer_dead\", missed =\n"
    "                                  unanswered pings, silent_ms = silence before it\n"
    "  peer_closed     {peer, reason}  a peer's session ended; reason is an error name such\n"
    "                                  as peer_dead, peer_closed, too_many_pings, or\n"
    "                                  session_closed when serve exits\n"
    "Example: {\"t_ms\":5012,\"event\":\"peer_dead\",\"peer\":\"127.0.0.1:50312\","
    "\"reason\":\"peer_dead\",\"missed\":3,\"silent_ms\":4004}\n";

const char* const watch_help_footer = HEARTBEAT_COMMON_HELP
    "\n" HEARTBEAT_JSON_INTRO "  endpoint  the ENDPOINT as given on the command line\n"
    "then the event's own fields:\n"
    "  connected  {}                  the heartbeat handshake with ENDPOINT completed (again\n"
    "                                 after every reconnect)\n"
    "  rtt        {rtt_us, srtt_us}   one round-trip sample and the smoothed RTT, microseconds.\n"
    "                                 Pings go out only when the link is quiet, so a peer that\n"
    "                                 pings first (or sends data) means fewer samples here.\n"
    "  suspect    {missed}            a pong deadline passed: alive -> suspect\n"
    "  alive      {}                  a suspect peer proved alive again: suspect -> alive\n"
    "  dead       {reason, missed, silent_ms}\n"
    "                                 verdict: reason \"peer_dead\", missed = unanswered pings,\n"
    "                                 silent_ms = silence before the verdict\n"
    "  closed     {reason}            the session ended or the connect failed; reason is an\n"
    "                                 error name such as peer_dead, peer_closed,\n"
    "                                 connection_refused, connect_timeout, or session_closed\n"
    "                                 when watch exits. The endpoint is retried after 1 s.\n"
    "A verdict comes after interval + misses * timeout of silence (more by up to\n"
    "jitter * interval).\n"
    "Example: {\"t_ms\":1203,\"event\":\"rtt\",\"endpoint\":\"127.0.0.1:7000\","
    "\"rtt_us\":184,\"srtt_us\":201}\n";

#undef HEARTBEAT_COMMON_HELP
#undef HEARTBEAT_JSON_INTRO

} // namespace heartbeat::cli
