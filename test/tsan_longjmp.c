/*
** tsan_longjmp.c — for `make check-tsan` only: lets ThreadSanitizer see the
** long jumps of Debian's Lua. Preloaded after TSan's runtime by
** scripts/run-tests.sh; never part of the engine.
**
** Debian builds Lua with _FORTIFY_SOURCE, so every Lua error and every yield
** leaves its frames through glibc's __longjmp_chk. GCC's TSan runtime
** intercepts _setjmp and longjmp but not __longjmp_chk. So when a jump
** skips frames of instrumented code (the engine's C functions under a
** pcall, a receive that yields), TSan never unwinds its own record of those
** calls. A scheduler thread that runs many such jumps grows that record
** until, at 65,536 frames, TSan corrupts its own state: a SEGV inside
** TSan's mutex bookkeeping, then a hang. The tablemgr spec's "client killed
** 20 times" did this under load. Taking __longjmp_chk's place with a
** plain longjmp sends each jump through TSan's interceptor. The check that
** __longjmp_chk adds (that the jump does not go to a deeper frame) is lost
** in these runs only.
*/
#undef _FORTIFY_SOURCE   /* or the longjmp below would itself be __longjmp_chk */
#include <setjmp.h>

_Noreturn void __longjmp_chk(jmp_buf env, int val);

_Noreturn void __longjmp_chk(jmp_buf env, int val) {
  longjmp(env, val);
}
