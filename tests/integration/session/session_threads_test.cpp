// Sessions on strands of one io_context run by 4 threads, driven from other threads at the same
// time: sends from 3 threads to every session, a receive chain per session, stats() read in a
// tight loop, close() and cancel() mid-stream from yet other threads.
//
// Correctness assertions here; the same test must be clean under ThreadSanitizer:
//   cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHEARTBEAT_SANITIZE=thread
//   cmake --build build-tsan --target integration_tests
//   build-tsan/tests/integration_tests --gtest_filter='SessionThreads.*'
#include "test_support.hpp"

#include <heartbeat/server/server.hpp>

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/strand.hpp>

#include <array>
#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kIoThreads = 4;
constexpr std::size_t kPairs = 4;
constexpr std::size_t kSenders = 3;
constexpr std::size_t kMessages = 200; // per sender thread and session

// Message: sender thread (1 byte), sequence (4 bytes), then a body derived from both, so the
// receiver can check order, gaps, duplicates and content without any shared state.
std::size_t body_size(std::uint32_t seq) {
    return seq % 50 == 7 ? 100 * 1024 : seq % 97 + 1;
}
char body_byte(std::uint8_t thread, std::uint32_t seq) {
    return static_cast<char>(seq * 7 + thread);
}
std::string make_message(std::uint8_t thread, std::uint32_t seq) {
    std::string m(5 + body_size(seq), body_byte(thread, seq));
    m[0] = static_cast<char>(thread);
    std::memcpy(m.data() + 1, &seq, 4);
    return m;
}

// One session and everything observed about it.
struct endpoint {
    std::optional<tcp_session> session;

    // Run (written on the strand before run_done is released).
    std::atomic<bool> run_done{false};
    boost::system::error_code run_reason;
    std::atomic<bool> verdict{false};

    // Receive chain (on the strand).
    std::array<std::uint32_t, kSenders> next_seq{};
    std::array<std::atomic<std::size_t>, kSenders> received_from{};
    std::atomic<bool> order_error{false}, content_error{false}, receive_done{false};
    std::atomic<std::size_t> pushes{0}; // server pushes ("push N"), server test only
    boost::system::error_code receive_end;

    // Sends: completion count per message (exactly one expected) and the outcome.
    std::array<std::array<std::atomic<int>, kMessages>, kSenders> completions{};
    std::array<std::array<std::atomic<bool>, kMessages>, kSenders> ok{};
    std::atomic<std::size_t> sends_completed{0};

    std::size_t ok_count(std::size_t t) const {
        std::size_t n = 0;
        for (auto& o : ok[t])
            n += o.load() ? 1 : 0;
        return n;
    }
    std::size_t received_total() const {
        std::size_t n = 0;
        for (auto& r : received_from)
            n += r.load();
        return n;
    }
};

void receive_next(endpoint& e) {
    e.session->async_receive([&e](boost::system::error_code ec, std::string m) {
        if (ec) {
            e.receive_end = ec;
            e.receive_done.store(true, std::memory_order_release);
            return;
        }
        if (m.rfind("push ", 0) == 0) {
            e.pushes.fetch_add(1);
        } else if (m.size() < 5 || static_cast<std::size_t>(m[0]) >= kSenders) {
            e.content_error = true;
        } else {
            const auto t = static_cast<std::uint8_t>(m[0]);
            std::uint32_t seq = 0;
            std::memcpy(&seq, m.data() + 1, 4);
            if (seq != e.next_seq[t])
                e.order_error = true;
            e.next_seq[t] = seq + 1;
            if (m.size() != 5 + body_size(seq) ||
                m.find_first_not_of(body_byte(t, seq), 5) != std::string::npos)
                e.content_error = true;
            e.received_from[t].fetch_add(1);
        }
        receive_next(e);
    });
}

} // namespace

TEST(SessionThreads, ConcurrentSendsReceivesClosesAndStatsOnStrands) {
    asio::io_context ioc(static_cast<int>(kIoThreads));
    auto work = asio::make_work_guard(ioc);
    // eps[2*i] is the accepting side of pair i, eps[2*i+1] the connecting side.
    std::vector<std::unique_ptr<endpoint>> eps;
    const session_config cfg = fast_config(20ms, 2000ms, 3); // chatty heartbeats, lenient budget
    for (std::size_t i = 0; i < kPairs; ++i) {
        auto [a, b] = tcp_pair_on(ioc, asio::any_io_executor(asio::make_strand(ioc)),
                                  asio::any_io_executor(asio::make_strand(ioc)));
        for (auto* s : {&a, &b}) {
            auto e = std::make_unique<endpoint>();
            auto* raw = e.get();
            session_callbacks cb;
            cb.on_verdict = [raw](const verdict&) { raw->verdict = true; };
            e->session.emplace(std::move(*s), cfg, cb);
            eps.push_back(std::move(e));
        }
    }
    for (auto& e : eps) {
        auto* raw = e.get();
        e->session->async_run([raw](boost::system::error_code ec) {
            raw->run_reason = ec;
            raw->run_done.store(true, std::memory_order_release);
        });
        receive_next(*e);
    }
    std::vector<std::thread> io_threads;
    for (std::size_t i = 0; i < kIoThreads; ++i)
        io_threads.emplace_back([&] { ioc.run(); });

    endpoint& a0 = *eps[0];
    endpoint& b0 = *eps[1];
    endpoint& a1 = *eps[2];
    endpoint& b1 = *eps[3];
    endpoint& a2 = *eps[4];
    endpoint& b2 = *eps[5];
    endpoint& a3 = *eps[6];
    endpoint& b3 = *eps[7];

    // Senders: every thread sends kMessages to every session, in order.
    std::atomic<std::size_t> issued_rounds{0}; // rounds completed by all threads, summed
    std::vector<std::thread> senders;
    for (std::size_t t = 0; t < kSenders; ++t) {
        senders.emplace_back([&, t] {
            for (std::uint32_t seq = 0; seq < kMessages; ++seq) {
                for (auto& e : eps) {
                    auto* raw = e.get();
                    raw->session->async_send(make_message(static_cast<std::uint8_t>(t), seq),
                                             [raw, t, seq](boost::system::error_code ec) {
                                                 raw->ok[t][seq].store(!ec);
                                                 raw->completions[t][seq].fetch_add(1);
                                                 raw->sends_completed.fetch_add(1);
                                             });
                }
                issued_rounds.fetch_add(1);
                if (seq % 16 == 0)
                    std::this_thread::yield();
            }
        });
    }

    // Stats readers: snapshots are consistent and counters never go backwards.
    std::atomic<bool> stop_stats{false};
    std::atomic<std::size_t> stats_reads{0};
    std::atomic<bool> stats_went_backwards{false};
    std::thread stats_reader([&] {
        std::vector<session_stats> last(eps.size());
        while (!stop_stats) {
            for (std::size_t i = 0; i < eps.size(); ++i) {
                const auto s = eps[i]->session->stats();
                const auto& l = last[i];
                if (s.bytes_sent < l.bytes_sent || s.bytes_received < l.bytes_received ||
                    s.messages_sent < l.messages_sent ||
                    s.messages_received < l.messages_received ||
                    s.heartbeat.pings_sent < l.heartbeat.pings_sent ||
                    s.heartbeat.pongs_received < l.heartbeat.pongs_received)
                    stats_went_backwards = true;
                last[i] = s;
                stats_reads.fetch_add(1);
            }
        }
    });

    // Mid-stream, from other threads: b0 closes; a1 and b1 close at the same time; b2 cancels.
    const auto halfway = [&] { return issued_rounds.load() >= kSenders * kMessages / 2; };
    std::thread closer0([&] {
        wait_until(halfway, 60s);
        b0.session->close();
    });
    std::thread closer1a([&] {
        wait_until(halfway, 60s);
        a1.session->close();
    });
    std::thread closer1b([&] {
        wait_until(halfway, 60s);
        b1.session->close();
    });
    std::thread canceller2([&] {
        wait_until(halfway, 60s);
        b2.session->cancel();
    });

    for (auto& t : senders)
        t.join();
    for (auto* t : {&closer0, &closer1a, &closer1b, &canceller2})
        t->join();

    // Every send completes exactly once; pair 3 then delivers everything both ways.
    const std::size_t per_session = kSenders * kMessages;
    const bool all_sends_completed = wait_until(
        [&] {
            for (auto& e : eps)
                if (e->sends_completed.load() < per_session)
                    return false;
            return true;
        },
        120s);
    const bool pair3_delivered = wait_until(
        [&] { return a3.received_total() == per_session && b3.received_total() == per_session; },
        60s);
    // Pairs 0-2 end on their own (a0 once it has read b0's flush and CLOSE, a2 when b2's socket
    // goes away); only then is pair 3 closed.
    const bool pairs_ended_on_their_own = wait_until(
        [&] {
            for (std::size_t i = 0; i < 6; ++i)
                if (!eps[i]->run_done.load(std::memory_order_acquire))
                    return false;
            return true;
        },
        60s);
    b3.session->close();
    const auto everything_ended = [&] {
        for (auto& e : eps)
            if (!e->run_done.load(std::memory_order_acquire) ||
                !e->receive_done.load(std::memory_order_acquire))
                return false;
        return true;
    };
    const bool all_ended = wait_until(everything_ended, 60s); // a3 ends on b3's CLOSE
    if (!all_ended) { // only so that a failing run still stops by itself
        for (auto& e : eps)
            e->session->close();
        wait_until(everything_ended, 10s);
    }
    stop_stats = true;
    stats_reader.join();
    work.reset();
    ioc.stop();
    for (auto& t : io_threads)
        t.join();

    ASSERT_TRUE(all_sends_completed);
    ASSERT_TRUE(all_ended);
    EXPECT_TRUE(pairs_ended_on_their_own);
    EXPECT_TRUE(pair3_delivered) << a3.received_total() << " / " << b3.received_total();
    EXPECT_GT(stats_reads.load(), 0u);
    EXPECT_FALSE(stats_went_backwards.load());

    for (std::size_t i = 0; i < eps.size(); ++i) {
        const endpoint& e = *eps[i];
        SCOPED_TRACE("endpoint " + std::to_string(i));
        EXPECT_FALSE(e.verdict.load());
        EXPECT_FALSE(e.order_error.load()) << "a message arrived out of order, twice or not at all";
        EXPECT_FALSE(e.content_error.load());
        for (std::size_t t = 0; t < kSenders; ++t) {
            bool failed_before = false;
            for (std::size_t s = 0; s < kMessages; ++s) {
                ASSERT_EQ(e.completions[t][s].load(), 1) << "thread " << t << " message " << s;
                // What was sent is a prefix: once the session ended, nothing later succeeds.
                if (e.ok[t][s].load())
                    EXPECT_FALSE(failed_before) << "thread " << t << " message " << s;
                else
                    failed_before = true;
            }
        }
    }
    // A receiver that kept reading got exactly what the closing side wrote before its CLOSE.
    for (std::size_t t = 0; t < kSenders; ++t) {
        EXPECT_EQ(a0.received_from[t].load(), b0.ok_count(t)) << "thread " << t;
        EXPECT_EQ(a3.received_from[t].load(), kMessages) << "thread " << t;
        EXPECT_EQ(b3.received_from[t].load(), kMessages) << "thread " << t;
        EXPECT_EQ(b3.ok_count(t), kMessages);
        EXPECT_EQ(a3.ok_count(t), kMessages);
        // The other direction may lose what was in flight when the receiver went away, but
        // never more than was sent, and never out of order (checked above). A message the peer
        // received was written whole, so its send must not have reported a failure.
        EXPECT_LE(b0.received_from[t].load(), a0.ok_count(t));
        EXPECT_LE(b2.received_from[t].load(), a2.ok_count(t));
        EXPECT_LE(a2.received_from[t].load(), b2.ok_count(t));
    }
    EXPECT_EQ(b0.run_reason, error::session_closed) << b0.run_reason.message();
    EXPECT_EQ(a0.run_reason, error::peer_closed) << a0.run_reason.message();
    for (endpoint* e : {&a1, &b1})
        EXPECT_TRUE(e->run_reason == error::session_closed || e->run_reason == error::peer_closed)
            << e->run_reason.message();
    EXPECT_EQ(b2.run_reason, asio::error::operation_aborted) << b2.run_reason.message();
    // b2 may have been cut in the middle of a frame.
    EXPECT_TRUE(a2.run_reason == error::peer_closed || a2.run_reason == error::truncated_frame)
        << a2.run_reason.message();
    EXPECT_EQ(b3.run_reason, error::session_closed) << b3.run_reason.message();
    EXPECT_EQ(a3.run_reason, error::peer_closed) << a3.run_reason.message();
    // Each receive chain ended with its session's reason.
    for (auto& e : eps)
        EXPECT_EQ(e->receive_end, e->run_reason);
}

// The server on 4 threads: clients on strands of the same io_context, send_to() and stats() from
// other threads, then server.close() from another thread while traffic flows.
TEST(SessionThreads, ServerOnFourThreadsWithSendToStatsAndClose) {
    asio::io_context ioc(static_cast<int>(kIoThreads));
    auto work = asio::make_work_guard(ioc);
    std::mutex mutex; // guards ids
    std::vector<std::uint64_t> ids;
    std::atomic<std::size_t> closed_peers{0};
    std::atomic<bool> any_verdict{false};
    server_callbacks scb;
    scb.on_peer_connected = [&](const peer_info& p) {
        std::lock_guard lock(mutex);
        ids.push_back(p.id);
    };
    scb.on_peer_closed = [&](const peer_info&, boost::system::error_code) { ++closed_peers; };
    scb.on_peer_dead = [&](const peer_info&, const verdict&) { any_verdict = true; };
    server_config scfg;
    scfg.session = fast_config(20ms, 2000ms, 3);
    tcp_server server(ioc, loopback(), scfg, scb);
    std::atomic<bool> server_done{false};
    server.async_run([&](boost::system::error_code) { server_done = true; });

    constexpr std::size_t kClients = 6;
    std::vector<std::unique_ptr<endpoint>> clients;
    for (std::size_t i = 0; i < kClients; ++i) {
        tcp::socket s(asio::make_strand(ioc));
        s.connect(server.local_endpoint());
        auto e = std::make_unique<endpoint>();
        auto* raw = e.get();
        session_callbacks cb;
        cb.on_verdict = [raw](const verdict&) { raw->verdict = true; };
        e->session.emplace(std::move(s), fast_config(20ms, 2000ms, 3), cb);
        e->session->async_run([raw](boost::system::error_code ec) {
            raw->run_reason = ec;
            raw->run_done.store(true, std::memory_order_release);
        });
        receive_next(*e);
        clients.push_back(std::move(e));
    }
    std::vector<std::thread> io_threads;
    for (std::size_t i = 0; i < kIoThreads; ++i)
        io_threads.emplace_back([&] { ioc.run(); });
    ASSERT_TRUE(wait_until(
        [&] {
            std::lock_guard lock(mutex);
            return ids.size() == kClients;
        },
        30s));

    // Clients send (echoed back), the server pushes with send_to, stats are read, all at once.
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < kSenders; ++t) {
        threads.emplace_back([&, t] {
            for (std::uint32_t seq = 0; seq < kMessages / 2; ++seq)
                for (auto& c : clients) {
                    auto* raw = c.get();
                    raw->session->async_send(make_message(static_cast<std::uint8_t>(t), seq),
                                             [raw, t, seq](boost::system::error_code ec) {
                                                 raw->ok[t][seq].store(!ec);
                                                 raw->completions[t][seq].fetch_add(1);
                                                 raw->sends_completed.fetch_add(1);
                                             });
                }
        });
    }
    std::atomic<std::size_t> pushed{0};
    threads.emplace_back([&] {
        std::vector<std::uint64_t> targets;
        {
            std::lock_guard lock(mutex);
            targets = ids;
        }
        for (int round = 0; round < 50 && !stop; ++round)
            for (auto id : targets)
                if (server.send_to(id, "push " + std::to_string(round)))
                    ++pushed;
    });
    std::atomic<std::size_t> stats_reads{0};
    threads.emplace_back([&] {
        while (!stop) {
            const auto st = server.stats();
            if (st.active > kClients)
                any_verdict = true; // impossible; flagged as a failure below
            for (auto& c : clients)
                (void)c->session->stats();
            ++stats_reads;
        }
    });
    // Let traffic flow a little, then close the server from yet another thread.
    wait_until([&] { return pushed.load() >= kClients * 10; }, 30s);
    std::thread closer([&] { server.close(); });
    closer.join();
    const bool ended = wait_until(
        [&] {
            for (auto& c : clients)
                if (!c->run_done.load(std::memory_order_acquire) ||
                    !c->receive_done.load(std::memory_order_acquire))
                    return false;
            return server_done.load() && closed_peers.load() == kClients;
        },
        60s);
    stop = true;
    for (auto& t : threads)
        t.join();
    const bool sends_done = wait_until(
        [&] {
            for (auto& c : clients)
                if (c->sends_completed.load() < kSenders * (kMessages / 2))
                    return false;
            return true;
        },
        30s);
    work.reset();
    ioc.stop();
    for (auto& t : io_threads)
        t.join();

    ASSERT_TRUE(ended);
    ASSERT_TRUE(sends_done);
    EXPECT_FALSE(any_verdict.load());
    EXPECT_GT(stats_reads.load(), 0u);
    EXPECT_EQ(server.stats().active, 0u);
    for (auto& c : clients) {
        EXPECT_EQ(c->run_reason, error::peer_closed) << c->run_reason.message();
        EXPECT_FALSE(c->verdict.load());
        EXPECT_FALSE(c->content_error.load());
        EXPECT_FALSE(c->order_error.load());
        for (std::size_t t = 0; t < kSenders; ++t)
            for (std::size_t s = 0; s < kMessages / 2; ++s)
                ASSERT_EQ(c->completions[t][s].load(), 1);
    }
}
