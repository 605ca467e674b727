// glibc-compat.c — keep the shared object startable on every glibc the Bun runtime starts on.
//
// Bun's x86-64 runtime needs nothing newer than GLIBC_2.17 (Ubuntu 20.04, Debian 11, RHEL 8 ship
// 2.31, 2.31, 2.28). Built on Debian 12 (glibc 2.36), libelf, libbpf and libpcap call functions
// whose default symbol version is newer: fstat (GLIBC_2.33: before it, fstat was an inline
// wrapper around __fxstat), fcntl64 (2.28, what fcntl is called under _FILE_OFFSET_BITS=64) and
// fmemopen (2.22). A loader on an older glibc refuses the whole library for one such version.
//
// build.sh links with -Wl,--wrap=NAME for each: the libraries' calls to NAME land in __wrap_NAME
// here, which calls the oldest version of the same function that glibc still exports. Nothing is
// recompiled, and build.sh checks the result against the runtime's own highest version.
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#if !defined(__x86_64__)
#error "glibc-compat.c knows x86-64's base symbol versions (GLIBC_2.2.5) only"
#endif

// glibc < 2.33 implemented fstat as __fxstat(_STAT_VER, ...); _STAT_VER is 1 on x86-64, and
// x86-64's struct stat has had the same layout since then. Still exported by every glibc.
int __fxstat(int ver, int fd, struct stat *buf);
__asm__(".symver __fxstat, __fxstat@GLIBC_2.2.5");

__attribute__((visibility("hidden"))) int __wrap_fstat(int fd, struct stat *buf)
{
	return __fxstat(1, fd, buf);
}

// On a 64-bit target fcntl64 is fcntl under another name (off_t is already 64 bits): glibc 2.28
// added the alias for 32-bit targets. Every command libbpf uses passes an int or a pointer,
// which travels in the same register, so the argument is forwarded as a pointer-sized word.
int fcntl(int fd, int cmd, ...);
__asm__(".symver fcntl, fcntl@GLIBC_2.2.5");

__attribute__((visibility("hidden"))) int __wrap_fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl(fd, cmd, arg);
}

// glibc 2.22 rewrote fmemopen and kept the old one as fmemopen@GLIBC_2.2.5. They differ on
// zero-sized buffers, append mode and binary mode; libbpf's only call (reading a kconfig text it
// was handed, mode "r", size = its strlen) behaves the same under both unless the text is empty,
// and xdptool hands libbpf no kconfig text.
FILE *old_fmemopen(void *buf, size_t size, const char *mode);
__asm__(".symver old_fmemopen, fmemopen@GLIBC_2.2.5");

__attribute__((visibility("hidden"))) FILE *__wrap_fmemopen(void *buf, size_t size, const char *mode)
{
	return old_fmemopen(buf, size, mode);
}
