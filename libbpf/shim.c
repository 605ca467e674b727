// shim.c — the few lines of C that bun:ffi cannot express on its own.
//
// libbpf reports *why* something failed (verifier log, missing section, BTF trouble) through a
// printf-style callback taking a va_list. JavaScript cannot format a va_list, so this shim
// installs a C callback that formats each message into a ring of text that the TypeScript side
// reads after a failed call (src/ffi/log.ts) and attaches to the error it throws.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#define XT_LOG_SIZE (256 * 1024)

static char log_buf[XT_LOG_SIZE];
static size_t log_len;
static int log_debug;

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !log_debug)
		return 0;
	if (log_len >= XT_LOG_SIZE - 1) {
		// Keep the newest text: the cause of a failure is printed last.
		memmove(log_buf, log_buf + XT_LOG_SIZE / 2, XT_LOG_SIZE / 2);
		log_len -= XT_LOG_SIZE / 2;
	}
	int n = vsnprintf(log_buf + log_len, XT_LOG_SIZE - log_len, fmt, ap);
	if (n > 0)
		log_len += (size_t)n < XT_LOG_SIZE - log_len ? (size_t)n : XT_LOG_SIZE - log_len - 1;
	return 0;
}

// Start capturing; debug=1 also keeps libbpf's debug chatter (xdptool --verbose).
void xt_log_capture(int debug)
{
	log_debug = debug;
	libbpf_set_print(capture);
}

// Copy up to cap-1 bytes of captured text into out (NUL-terminated) and return its length.
size_t xt_log_take(char *out, size_t cap)
{
	size_t n = log_len < cap - 1 ? log_len : cap - 1;
	// The tail is the most recent, most relevant part.
	memcpy(out, log_buf + (log_len - n), n);
	out[n] = 0;
	log_len = 0;
	return n;
}
