#pragma once
// Implementation of session<websocket_link<NextLayer>>. The stock next layers are compiled once
// in src/; include this header in one .cpp of yours for another next layer.
#include <heartbeat/protocol/websocket/websocket_link.hpp>
#include <heartbeat/protocol/websocket/websocket_link_ending.hpp>
#include <heartbeat/protocol/websocket/websocket_link_impl.hpp>
#include <heartbeat/protocol/websocket/websocket_link_writer.hpp>
#include <heartbeat/session/session_impl.hpp>

#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
