/*
 * bcryptprimitives.dll for wine 8.0, which lacks it: every Rust program on
 * Windows imports ProcessPrng from it for its random numbers, so without
 * it they stop at start with status 0xc0000135. ProcessPrng fills the
 * buffer from the system generator, as Windows' own does.
 *
 * Built by `cargo xtask wine` with the mingw-w64 cross compiler:
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *     bcryptprimitives.c bcryptprimitives.def -lbcrypt
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) {
            return FALSE;
        }
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
