/* test_ecverify.c again, on the portable arithmetic of probe/ecverify.c
 * (128-bit additions), which x86-64 builds do not otherwise use: the file
 * is compiled here with ECVERIFY_PORTABLE, and its functions take the
 * place of libprobe.a's. */
#define ECVERIFY_PORTABLE
#include "../../probe/ecverify.c"
#include "test_ecverify.c"
