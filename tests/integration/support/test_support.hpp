#pragma once
// Shared helpers for integration tests: connected loopback socket pairs, bounded io runs, a child
// peer process, raw-socket frame helpers for hand-written (mis)behaving peers, temp dirs and a
// runtime-generated self-signed TLS certificate.
//
// Every wait here is bounded in time; every child process is killed and reaped by its owner.
#include <heartbeat/protocol/native/frame_codec.hpp>
#include <heartbeat/protocol/native/native_session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

namespace heartbeat::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

inline tcp::endpoint loopback(unsigned short port = 0) {
    return {asio::ip::make_address("127.0.0.1"), port};
}

// A connected TCP pair on 127.0.0.1, port chosen by the kernel.
inline std::pair<tcp::socket, tcp::socket> tcp_pair(asio::io_context& ioc) {
    tcp::acceptor acceptor(ioc, loopback());
    tcp::socket client(ioc);
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();
    return {std::move(server), std::move(client)};
}

// As tcp_pair, each socket on its own executor (e.g. a strand); {server side, client side}.
template <class Executor>
std::pair<tcp::socket, tcp::socket> tcp_pair_on(asio::io_context& ioc, const Executor& server_ex,
                                                const Executor& client_ex) {
    tcp::acceptor acceptor(ioc, loopback());
    tcp::socket client(client_ex);
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept(server_ex);
    return {std::move(server), std::move(client)};
}

// As tcp_pair, with SO_SNDBUF/SO_RCVBUF fixed to `bytes` on both ends before the connection
// exists (which also turns Linux's buffer autotuning off), so at most a few hundred KiB can sit
// in the kernel between a writer and a slow reader.
inline std::pair<tcp::socket, tcp::socket> tcp_pair_small_buffers(asio::io_context& ioc,
                                                                  int bytes) {
    tcp::acceptor acceptor(ioc);
    acceptor.open(tcp::v4());
    acceptor.set_option(asio::socket_base::receive_buffer_size(bytes));
    acceptor.set_option(asio::socket_base::send_buffer_size(bytes));
    acceptor.bind(loopback());
    acceptor.listen();
    tcp::socket client(ioc);
    client.open(tcp::v4());
    client.set_option(asio::socket_base::receive_buffer_size(bytes));
    client.set_option(asio::socket_base::send_buffer_size(bytes));
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();
    return {std::move(server), std::move(client)};
}

// Runs `ioc` until `done()` or the time limit; returns whether done() became true.
template <class Pred, class Rep, class Period>
bool run_until(asio::io_context& ioc, Pred done, std::chrono::duration<Rep, Period> limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end) {
        ioc.run_for(std::chrono::milliseconds(10));
        if (ioc.stopped())
            ioc.restart();
    }
    return done();
}

// Runs `ioc` until a std::runtime_error whose what() is `what` leaves run() (a handler threw
// it), or the time limit; returns whether it did. The io_context is left ready to run again.
template <class Rep, class Period>
bool run_until_thrown(asio::io_context& ioc, const std::string& what,
                      std::chrono::duration<Rep, Period> limit) {
    bool thrown = false;
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!thrown && std::chrono::steady_clock::now() < end) {
        try {
            ioc.run_for(std::chrono::milliseconds(5));
            if (ioc.stopped())
                ioc.restart();
        } catch (const std::runtime_error& e) {
            thrown = e.what() == what;
        }
    }
    if (ioc.stopped())
        ioc.restart();
    return thrown;
}

// Runs `ioc` for `d` (whatever happens).
template <class Rep, class Period>
void run_for(asio::io_context& ioc, std::chrono::duration<Rep, Period> d) {
    run_until(
        ioc, [] { return false; }, d);
}

// Waits on the calling thread (no io_context) until `done()` or the time limit.
template <class Pred, class Rep, class Period>
bool wait_until(Pred done, std::chrono::duration<Rep, Period> limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return done();
}

inline session_config fast_config(std::chrono::milliseconds interval,
                                  std::chrono::milliseconds timeout, unsigned misses) {
    session_config c;
    c.heartbeat.interval = interval;
    c.heartbeat.pong_timeout = timeout;
    c.heartbeat.max_missed = misses;
    c.heartbeat.jitter = 0.0;
    return c;
}

inline double to_ms(duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

// ---- Hand-written peers -----------------------------------------------------------------------

inline std::vector<std::uint8_t> frame_bytes(const frame& f) {
    std::vector<std::uint8_t> out;
    encode_append(f, out);
    return out;
}

// A plain HELLO, as a well-behaved peer that asks for nothing sends it.
inline std::vector<std::uint8_t> hello_bytes() {
    return frame_bytes(hello_frame{});
}

// What a raw peer saw from the session, with the fields the tests look at copied out of the
// decoder's views.
struct seen_frame {
    frame_type type{};
    std::uint64_t seq = 0;             // ping/pong
    std::uint64_t send_time_us = 0;    // ping/pong
    std::uint32_t min_interval_ms = 0; // slow_down, hello
    std::uint16_t close_code = 0;      // close
    std::string close_reason;          // close
    std::size_t data_size = 0;         // data
    bool fin = false;                  // data
};

inline seen_frame summarize(const frame& f) {
    seen_frame s;
    s.type = type_of(f);
    if (auto* p = std::get_if<ping_frame>(&f))
        s.seq = p->seq, s.send_time_us = p->send_time_us;
    else if (auto* q = std::get_if<pong_frame>(&f))
        s.seq = q->seq, s.send_time_us = q->send_time_us;
    else if (auto* sd = std::get_if<slow_down_frame>(&f))
        s.min_interval_ms = sd->min_interval_ms;
    else if (auto* h = std::get_if<hello_frame>(&f))
        s.min_interval_ms = h->min_interval_ms;
    else if (auto* c = std::get_if<close_frame>(&f))
        s.close_code = c->code, s.close_reason = std::string(c->reason);
    else if (auto* d = std::get_if<data_frame>(&f))
        s.data_size = d->payload.size(), s.fin = d->fin;
    return s;
}

// Reads frames from a raw socket until EOF/error or `stop`; every frame is summarized into
// `out`. `on_frame` (optional) sees each frame first, e.g. to answer pings. Completes with the
// read error that ended it (eof for a clean close).
template <class Socket, class OnFrame>
asio::awaitable<boost::system::error_code>
read_raw_frames(Socket& socket, std::vector<seen_frame>& out, OnFrame on_frame,
                std::size_t max_payload = 1u << 20) {
    frame_decoder decoder(max_payload);
    std::vector<std::uint8_t> buf(64 * 1024);
    for (;;) {
        auto [ec, n] =
            co_await socket.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return ec;
        decoder.feed(std::span<const std::uint8_t>(buf.data(), n));
        for (;;) {
            auto r = decoder.next();
            if (r.st == parse_result::status::error)
                co_return r.ec;
            if (r.st == parse_result::status::need_more)
                break;
            on_frame(r.value);
            out.push_back(summarize(r.value));
        }
    }
}

inline std::size_t count_frames(const std::vector<seen_frame>& frames, frame_type t) {
    return static_cast<std::size_t>(std::count_if(
        frames.begin(), frames.end(), [t](const seen_frame& f) { return f.type == t; }));
}

inline const seen_frame* find_close(const std::vector<seen_frame>& frames) {
    for (const auto& f : frames)
        if (f.type == frame_type::close)
            return &f;
    return nullptr;
}

// ---- A peer in a child process -----------------------------------------------------------------

// The hb_test_peer helper (tests/integration/helpers/peer_main.cpp), started with fork+exec so it
// can be frozen (SIGSTOP) and killed (SIGKILL) like a real remote process. It dies with the test
// process (PR_SET_PDEATHSIG) and is always killed and reaped by the destructor.
class child_peer {
public:
    child_peer() = default;
    child_peer(const child_peer&) = delete;
    child_peer& operator=(const child_peer&) = delete;
    ~child_peer() { kill_and_reap(); }

    // Starts `path args...` and reads the port it prints on its first stdout line (bounded by
    // `limit`). Returns false (and cleans up) on any failure.
    bool start(const std::string& path, const std::vector<std::string>& args,
               std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0)
            return false;
        std::vector<std::string> argv_storage{path};
        argv_storage.insert(argv_storage.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_storage)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        const pid_t parent = ::getpid();
        const pid_t pid = ::fork();
        if (pid < 0) {
            ::close(fds[0]);
            ::close(fds[1]);
            return false;
        }
        if (pid == 0) {
            // Child: async-signal-safe calls only.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent)
                ::_exit(127);
            ::dup2(fds[1], STDOUT_FILENO);
            ::execv(path.c_str(), argv.data());
            ::_exit(127);
        }
        ::close(fds[1]);
        pid_ = pid;
        std::string line;
        const auto end = std::chrono::steady_clock::now() + limit;
        while (line.find('\n') == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now());
            if (left <= std::chrono::milliseconds::zero())
                break;
            pollfd p{fds[0], POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
                break;
            char buf[64];
            const ssize_t n = ::read(fds[0], buf, sizeof buf);
            if (n <= 0)
                break;
            line.append(buf, static_cast<std::size_t>(n));
        }
        ::close(fds[0]);
        const int port = std::atoi(line.c_str());
        if (line.find('\n') == std::string::npos || port <= 0 || port > 65535) {
            kill_and_reap();
            return false;
        }
        port_ = static_cast<unsigned short>(port);
        return true;
    }

    pid_t pid() const noexcept { return pid_; }
    unsigned short port() const noexcept { return port_; }

    // SIGSTOP, then waits (bounded) until the kernel reports the child stopped.
    bool freeze() {
        if (pid_ <= 0 || ::kill(pid_, SIGSTOP) != 0)
            return false;
        int status = 0;
        return ::waitpid(pid_, &status, WUNTRACED) == pid_ && WIFSTOPPED(status);
    }

    // SIGKILL (works on a stopped child too), then reaps it. Idempotent.
    void kill_and_reap() {
        if (pid_ <= 0)
            return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
    unsigned short port_ = 0;
};

inline std::string test_peer_path() {
#ifdef HEARTBEAT_TEST_PEER
    return HEARTBEAT_TEST_PEER;
#else
    return std::string(HEARTBEAT_TEST_HELPERS_DIR) + "/hb_test_peer";
#endif
}

// ---- Files ----------------------------------------------------------------------------------

// A fresh private directory under the system temp dir, removed with its contents on destruction.
class temp_dir {
public:
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "hb-it-XXXXXX").string();
        if (!::mkdtemp(tmpl.data()))
            throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

// ---- TLS ------------------------------------------------------------------------------------

struct pem_pair {
    std::string certificate;
    std::string private_key;
};

// A self-signed P-256 certificate for `host` (CN and subjectAltName DNS:host, IP:127.0.0.1),
// valid from an hour ago for a day, made with the OpenSSL C API at runtime.
inline pem_pair make_self_signed_certificate(const std::string& host) {
    struct deleter {
        void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
        void operator()(X509* p) const { X509_free(p); }
        void operator()(BIO* p) const { BIO_free(p); }
        void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
    };
    const auto check = [](bool ok, const char* what) {
        if (!ok)
            throw std::runtime_error(std::string("openssl: ") + what);
    };
    std::unique_ptr<EVP_PKEY, deleter> key(EVP_EC_gen("P-256"));
    check(key != nullptr, "EVP_EC_gen");
    std::unique_ptr<X509, deleter> cert(X509_new());
    check(cert != nullptr, "X509_new");
    check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
    check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1, "serial");
    check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr, "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600) != nullptr, "notAfter");
    check(X509_set_pubkey(cert.get(), key.get()) == 1, "X509_set_pubkey");
    X509_NAME* name = X509_get_subject_name(cert.get());
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(host.c_str()), -1, -1,
                                     0) == 1,
          "CN");
    check(X509_set_issuer_name(cert.get(), name) == 1, "issuer");
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    const std::string san = "DNS:" + host + ",IP:127.0.0.1";
    std::unique_ptr<X509_EXTENSION, deleter> ext(
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str()));
    check(ext != nullptr, "subjectAltName");
    check(X509_add_ext(cert.get(), ext.get(), -1) == 1, "X509_add_ext");
    check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign");

    const auto to_string = [&](auto write) {
        std::unique_ptr<BIO, deleter> bio(BIO_new(BIO_s_mem()));
        check(bio != nullptr && write(bio.get()) == 1, "PEM_write");
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(n));
    };
    pem_pair out;
    out.certificate = to_string([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
    out.private_key = to_string([&](BIO* b) {
        return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    return out;
}

} // namespace heartbeat::test
