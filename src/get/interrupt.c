/* Noting signals during long steps; see interrupt.h. */
#include "get/interrupt.h"

#include <signal.h>
#include <string.h>

static const int SIGNALS[] = {SIGINT, SIGTERM, SIGHUP};
#define N_SIGNALS ((int)(sizeof SIGNALS / sizeof SIGNALS[0]))

static volatile sig_atomic_t pending;
static struct sigaction previous[N_SIGNALS];

static void on_signal(int sig) {
    pending = sig;
}

void get_interrupt_begin(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    pending = 0;

    /* A signal the user ignores (nohup's SIGHUP) stays ignored. */
    for (int i = 0; i < N_SIGNALS; i++) {
        sigaction(SIGNALS[i], NULL, &previous[i]);
        if (previous[i].sa_handler != SIG_IGN)
            sigaction(SIGNALS[i], &sa, NULL);
    }
}

int get_interrupt_pending(void) {
    return pending;
}

int get_interrupt_end(void) {
    for (int i = 0; i < N_SIGNALS; i++)
        sigaction(SIGNALS[i], &previous[i], NULL);
    int sig = pending;
    pending = 0;
    if (sig)
        raise(sig);
    return sig;
}
