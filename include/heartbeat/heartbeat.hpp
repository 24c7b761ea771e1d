#pragma once
// Every public header of heartbeat, for programs that would rather not pick. The layers, from the
// bottom: core/ (sans-io policy), protocol/<name>/ and session/ (one session core, a profile per
// protocol), server/ and client/ (the supervisor); see README.md, "Architecture and layout".
#include <heartbeat/client/client.hpp>
#include <heartbeat/client/endpoint.hpp>
#include <heartbeat/core/config.hpp>
#include <heartbeat/core/error.hpp>
#include <heartbeat/core/heartbeat_monitor.hpp>
#include <heartbeat/core/log_sink.hpp>
#include <heartbeat/metrics/registry.hpp>
#include <heartbeat/metrics/render.hpp>
#include <heartbeat/pool/session_pool.hpp>
#include <heartbeat/protocol/mqtt/mqtt_control.hpp>
#include <heartbeat/protocol/native/native_session.hpp>
#include <heartbeat/protocol/profile_sessions.hpp>
#include <heartbeat/protocol/resp/resp_command.hpp>
#include <heartbeat/protocol/resp/resp_value.hpp>
#include <heartbeat/protocol/websocket/websocket_session.hpp>
#include <heartbeat/server/server.hpp>
#include <heartbeat/server/websocket_server.hpp>
