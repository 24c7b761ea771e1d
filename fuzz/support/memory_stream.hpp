#pragma once
// An in-memory AsyncReadStream + AsyncWriteStream for the session fuzzers: reads return a
// scripted list of chunks (copied into the reader's buffer, possibly over several reads; in
// lockstep each chunk waits for a write of the session first), then end of stream, or wait
// until the stream is cancelled or closed (a peer that goes silent);
// writes are accepted (up to a per-write limit, exercising partial writes) and discarded.
// Every operation completes through the executor, never inline, as a socket's would.
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace heartbeat::fuzz {

struct stream_script {
    std::vector<std::span<const std::uint8_t>> chunks; // what successive reads deliver
    bool silent_at_end = false;  // after the chunks: wait for cancel/close instead of EOF
    std::size_t write_limit = 0; // most bytes one write_some takes; 0 = all it is given
    // Each chunk after the first waits until the session wrote something since the previous
    // one began: a peer that answers requests, so replies meet the pings they answer.
    bool lockstep = false;
};

class memory_stream {
public:
    using executor_type = boost::asio::any_io_executor;
    using io_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;

    // What the harness inspects after the session is gone.
    struct state {
        executor_type executor;
        stream_script script;
        std::size_t chunk = 0;  // next chunk to read
        std::size_t offset = 0; // bytes of it already read
        // A read waiting: for a write (lockstep) or for cancel/close (silence).
        std::optional<io_handler> parked_read;
        std::vector<boost::asio::mutable_buffer> parked_buffers;
        std::size_t writes_at_chunk_start = 0;
        bool closed = false;
        std::size_t bytes_written = 0;
        std::size_t reads = 0;
        std::size_t writes = 0;
    };

    memory_stream(executor_type ex, stream_script script)
        : state_(std::make_shared<state>(state{std::move(ex), std::move(script)})) {}

    std::shared_ptr<state> shared_state() const { return state_; }
    executor_type get_executor() const { return state_->executor; }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [s = state_](auto handler, const MutableBuffers& buffers) {
                ++s->reads;
                if (s->parked_read) // a second concurrent read breaks the stream contract
                    return complete(s, std::move(handler), boost::asio::error::in_progress, 0);
                s->parked_read.emplace(std::move(handler));
                s->parked_buffers.assign(boost::asio::buffer_sequence_begin(buffers),
                                         boost::asio::buffer_sequence_end(buffers));
                serve_read(s);
            },
            token, buffers);
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [s = state_](auto handler, const ConstBuffers& buffers) {
                ++s->writes;
                if (s->closed)
                    return complete(s, std::move(handler), boost::asio::error::bad_descriptor, 0);
                std::size_t n = boost::asio::buffer_size(buffers);
                if (s->script.write_limit != 0)
                    n = std::min(n, s->script.write_limit);
                s->bytes_written += n;
                complete(s, std::move(handler), {}, n);
                serve_read(s); // in lockstep, the peer answers what we wrote
            },
            token, buffers);
    }

    // Optional members of session_stream: a verdict ends the parked read at once; close lets
    // the session's ending be seen (later reads and writes fail, as on a closed socket).
    void cancel(boost::system::error_code& ec) {
        ec = {};
        release_parked(state_, boost::asio::error::operation_aborted, 0);
    }
    void close(boost::system::error_code& ec) {
        ec = {};
        state_->closed = true;
        release_parked(state_, boost::asio::error::operation_aborted, 0);
    }

    // What a WebSocket link asks of the socket under Beast (websocket_session_fuzzer): a
    // shutdown, and a write-readiness wait, which a memory stream always is.
    void shutdown(boost::asio::socket_base::shutdown_type, boost::system::error_code& ec) {
        ec = {};
    }
    template <class Token>
    auto async_wait(boost::asio::socket_base::wait_type, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
            [s = state_](auto handler) {
                boost::asio::post(s->executor,
                                  boost::asio::append(std::move(handler),
                                                      s->closed ? boost::asio::error::bad_descriptor
                                                                : boost::system::error_code{}));
            },
            token);
    }

private:
    template <class Handler>
    static void complete(const std::shared_ptr<state>& s, Handler&& handler,
                         boost::system::error_code ec, std::size_t n) {
        boost::asio::post(s->executor, boost::asio::append(std::forward<Handler>(handler), ec, n));
    }

    static void release_parked(const std::shared_ptr<state>& s, boost::system::error_code ec,
                               std::size_t n) {
        if (!s->parked_read)
            return;
        io_handler h = std::move(*s->parked_read);
        s->parked_read.reset();
        complete(s, std::move(h), ec, n);
    }

    // Completes the parked read if the script lets it: with the next bytes, or EOF; leaves it
    // parked while the peer waits for our next write (lockstep) or has gone silent.
    static void serve_read(const std::shared_ptr<state>& s) {
        if (!s->parked_read)
            return;
        if (s->closed)
            return release_parked(s, boost::asio::error::bad_descriptor, 0);
        if (boost::asio::buffer_size(s->parked_buffers) == 0)
            return release_parked(s, {}, 0);
        auto& chunks = s->script.chunks;
        if (s->chunk < chunks.size()) {
            if (s->offset == 0) {
                if (s->script.lockstep && s->chunk > 0 && s->writes == s->writes_at_chunk_start)
                    return; // the peer answers only after we wrote something since
                s->writes_at_chunk_start = s->writes;
            }
            const auto left = chunks[s->chunk].subspan(s->offset);
            const std::size_t n = boost::asio::buffer_copy(
                s->parked_buffers, boost::asio::buffer(left.data(), left.size()));
            s->offset += n;
            if (s->offset == chunks[s->chunk].size()) {
                ++s->chunk;
                s->offset = 0;
            }
            return release_parked(s, {}, n);
        }
        if (!s->script.silent_at_end)
            return release_parked(s, boost::asio::error::eof, 0);
    }

    std::shared_ptr<state> state_;
};

} // namespace heartbeat::fuzz
