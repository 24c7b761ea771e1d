#include "help_text.hpp"

namespace heartbeat::cli {

#define HEARTBEAT_DURATION_HELP "Durations take a unit: ms, s or m (250ms, 1.5s, 2m).\n"

#define HEARTBEAT_COMMON_HELP                                                                      \
    HEARTBEAT_DURATION_HELP                                                                        \
    "Exit status: 0 after SIGINT/SIGTERM (or --for), 1 on a runtime failure, 2 on bad "            \
    "arguments.\n"

#define HEARTBEAT_HTTP_HELP                                                                        \
    "--http HOST:PORT serves, on that address (port 0 picks one; reported by http_listening):\n"   \
    "  GET /             the status page: a row per endpoint (watch) or peer (serve) with its\n"   \
    "                    state, last RTT and an RTT chart, and the failover history; it follows\n" \
    "                    /live and says whether it is live or disconnected\n"                      \
    "  GET /status.json  the rows, the active endpoint and the history, as JSON\n"                 \
    "  GET /metrics      Prometheus text format 0.0.4 (heartbeat_* families)\n"                    \
    "  /live             a WebSocket pushing the state every second and at each change;\n"         \
    "                    heartbeat pings it, so a browser that vanished is dropped\n"              \
    "Other paths get 404, other methods 405. See docs/status-page.md.\n"

#define HEARTBEAT_JSON_INTRO                                                                       \
    "With --json, stdout carries one JSON object per line, flushed per line. Every object has\n"   \
    "  t_ms      integer milliseconds since the tool started (monotonic clock)\n"                  \
    "  event     the event name, one of those below\n"

const char* const main_help_footer = HEARTBEAT_COMMON_HELP
    "Protocols: the native heartbeat protocol over TCP (serve, watch HOST:PORT) or WebSocket\n"
    "(serve --protocol ws, watch ws://HOST:PORT/PATH or wss://...).\n"
    "JSON events (--json): serve emits listening, peer_connected, peer_dead, peer_closed;\n"
    "with --http both commands also emit http_listening.\n"
    "watch emits connected, rtt, suspect, alive, dead, closed, failover, reconnecting,\n"
    "failback, gave_up and (with --send-rate) delivery. Their fields are listed by\n"
    "'heartbeat serve --help' and 'heartbeat watch --help'.\n"
    "'heartbeat demo' shows failover and failback end to end in one process (about 12 s).\n";

const char* const serve_help_footer = HEARTBEAT_COMMON_HELP
    "\n"
    "--protocol native (the default) speaks heartbeat's own framing over TCP: watch it as\n"
    "HOST:PORT. --protocol ws is a WebSocket (RFC 6455) echo server: it accepts the upgrade on\n"
    "any path, heartbeats its peers with ping control frames (browsers, Node ws and any RFC\n"
    "6455 client answer them), echoes every message with its kind (text or binary) and\n"
    "answers plain HTTP requests with 404; watch it as ws://HOST:PORT/. --min-interval needs\n"
    "the native protocol (WebSocket has no way to tell a peer to slow down). With --tls-cert\n"
    "and --tls-key it serves wss:// (TLS) instead: watch it as wss://HOST:PORT/.\n"
    "\n" HEARTBEAT_HTTP_HELP "\n" HEARTBEAT_JSON_INTRO "then the event's own fields:\n"
    "  http_listening  {address, url}  --http: the HOST:PORT bound and the status page's URL\n"
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

const char* const watch_help_footer = HEARTBEAT_DURATION_HELP
    "Exit status: 0 after SIGINT/SIGTERM (or --for), 1 when it gave up (--give-up-after) or on a\n"
    "runtime failure, 2 on bad arguments.\n"
    "\n"
    "ENDPOINT forms:\n"
    "  HOST:PORT, [IPV6]:PORT       the native heartbeat protocol (heartbeat serve)\n"
    "  ws://HOST[:PORT][/PATH]      WebSocket, port 80 by default, path / by default\n"
    "                               (heartbeat serve --protocol ws, or any RFC 6455 server)\n"
    "  wss://HOST[:PORT][/PATH]     WebSocket over TLS, port 443 by default; the certificate\n"
    "                               must be trusted by the system's CA store (or by\n"
    "                               --ca-file) and match HOST, a name (sent as SNI) or an\n"
    "                               IP address; --insecure accepts any certificate\n"
    "  redis://[[USER]:PASS@]HOST[:PORT][/DB][?protocol=2|3&name=NAME]\n"
    "                               a Redis server, port 6379 by default: the heartbeat is\n"
    "                               PING / +PONG after HELLO (RESP3) or AUTH (RESP2);\n"
    "                               rediss:// over TLS\n"
    "  mqtt://[USER[:PASS]@]HOST[:PORT][?client_id=ID&version=3.1.1|5&keep_alive=S]\n"
    "                               an MQTT broker, port 1883 by default (mqtts://: TLS,\n"
    "                               8883): CONNECT, then PINGREQ / PINGRESP\n"
    "  line://HOST:PORT[?ping=PING&pong=PONG&match=exact|prefix&eol=crlf|lf]\n"
    "                               a line protocol: the ping line and its expected reply\n"
    "                               (lines://: TLS); percent-encode what the URI reserves\n"
    "IPv6 literals go in brackets (ws://[::1]:8080/). Host names are resolved on every attempt.\n"
    "Protocols may be mixed in one failover list. Over WebSocket the heartbeat uses ping/pong\n"
    "control frames, and a message counts as delivered once written (RFC 6455 has no ACKs):\n"
    "acked in `delivery` then counts written messages. --send-rate needs native or WebSocket\n"
    "endpoints (Redis, MQTT and line endpoints carry their own protocol's messages). --ca-file\n"
    "and --insecure apply to every TLS form (wss, rediss, mqtts, lines).\n"
    "\n"
    "The ENDPOINTs are one connection's failover list, most preferred first. When the current\n"
    "endpoint dies or cannot be reached, watch fails over to the next one. Once every endpoint\n"
    "failed in a row it waits a random delay in [0, bound] and starts over from the first; the\n"
    "bound starts at --backoff-initial and grows 1.6x per such round up to --backoff-max (a\n"
    "session that lasted 10 s starts it over). Without --give-up-after it retries forever.\n"
    "With --failback it probes the more preferred endpoints while on another one, and moves back\n"
    "to the first that answered 3 probes in a row once it has been on the current one for\n"
    "--min-dwell; the current session is drained (its messages acknowledged) before the switch.\n"
    "\n" HEARTBEAT_HTTP_HELP "\n" HEARTBEAT_JSON_INTRO
    "then the event's own fields (endpoint, from and to are ENDPOINTs\n"
    "as given on the command line):\n"
    "  http_listening {address, url}  --http: the HOST:PORT bound and the status page's URL\n"
    "  connected     {endpoint}       the heartbeat handshake with endpoint completed (for\n"
    "                                 ws:// and wss://: the WebSocket upgrade), again after\n"
    "                                 every reconnect, failover and failback\n"
    "  rtt           {endpoint, rtt_us, srtt_us}\n"
    "                                 one round-trip sample and the smoothed RTT, microseconds.\n"
    "                                 Pings go out only when the link is quiet, so a peer that\n"
    "                                 pings first (or sends data) means fewer samples here.\n"
    "  suspect       {endpoint, missed}\n"
    "                                 a pong deadline passed: alive -> suspect\n"
    "  alive         {endpoint}       a suspect peer proved alive again: suspect -> alive\n"
    "  dead          {endpoint, reason, missed, silent_ms}\n"
    "                                 verdict: reason \"peer_dead\", missed = unanswered pings,\n"
    "                                 silent_ms = silence before the verdict\n"
    "  closed        {endpoint, reason}\n"
    "                                 a session ended or a connect attempt failed; reason is an\n"
    "                                 error name such as peer_dead, peer_closed,\n"
    "                                 connection_refused, connect_timeout, handshake_timeout\n"
    "                                 (no HELLO, TLS handshake or WebSocket upgrade in time),\n"
    "                                 or session_closed (watch exits, or the session was\n"
    "                                 drained for a failback); system_error for other failures\n"
    "                                 (a refused upgrade, an untrusted certificate), with the\n"
    "                                 cause in an extra field, detail\n"
    "  failover      {from, to}       endpoint from failed; to is tried next (after the last\n"
    "                                 endpoint, to is the first again)\n"
    "  reconnecting  {attempt, delay_ms}\n"
    "                                 every endpoint failed in a row: the next connection\n"
    "                                 attempt waits delay_ms; attempt counts the attempts made\n"
    "  failback      {from, to}       --failback: to, more preferred, answered its probes; the\n"
    "                                 session with from was closed and to is connected next\n"
    "  gave_up       {reason}         --give-up-after passed without a session: reason\n"
    "                                 \"all_endpoints_failed\"; watch exits 1\n"
    "  delivery      {sent, acked, unacked, resent, echoed}\n"
    "                                 --send-rate: every second, and once more at exit (after\n"
    "                                 closed): messages accepted, highest one acknowledged by a\n"
    "                                 server, awaiting acknowledgement, re-sent after a\n"
    "                                 reconnect, and received back (serve echoes them)\n"
    "Connection attempts (connecting) are shown in the text view only, never in JSON.\n"
    "A verdict comes after interval + misses * timeout of silence (more by up to\n"
    "jitter * interval).\n"
    "Example: {\"t_ms\":1203,\"event\":\"rtt\",\"endpoint\":\"127.0.0.1:7000\","
    "\"rtt_us\":184,\"srtt_us\":201}\n"
    "         {\"t_ms\":5310,\"event\":\"failover\",\"from\":\"127.0.0.1:7000\","
    "\"to\":\"ws://127.0.0.1:7001/\"}\n";

const char* const demo_help_footer = HEARTBEAT_DURATION_HELP
    "Exit status: 0 when every message arrived exactly once and in order and both the failover\n"
    "and the failback happened; 1 otherwise; 2 on bad arguments.\n"
    "\n"
    "The scenario, on loopback inside this process: a primary and a backup server (sharing a\n"
    "resume store, as a cluster sharing session state would) and a client streaming 500\n"
    "numbered messages per second with failback on. At 3 s the primary hangs: it stops reading\n"
    "and answering but keeps its sockets open. The client declares it dead after the silence\n"
    "budget (interval + misses * timeout) and fails over to the backup. budget + 3 s after the\n"
    "hang the primary recovers; the client probes it and fails back. Streaming stops 4 s after\n"
    "the recovery (at 11 s with the defaults), then the delivery count is printed.\n";

#undef HEARTBEAT_COMMON_HELP
#undef HEARTBEAT_JSON_INTRO
#undef HEARTBEAT_HTTP_HELP
#undef HEARTBEAT_DURATION_HELP

} // namespace heartbeat::cli
