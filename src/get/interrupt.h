/* Ctrl-C during a download or an unpacking.
 *
 * A handler that does real work cannot be async-signal-safe when the work
 * is removing a folder tree, so these handlers only note the signal. The
 * download and unpacking loops poll it, stop, clean up (the .part stays for
 * the next run to resume; the temporary folder goes), and get_interrupt_end
 * then delivers the signal to the handler that was there before, so the
 * process ends as it would have (and fileio's own cleanup still runs). */
#ifndef NOISETTE_GET_INTERRUPT_H
#define NOISETTE_GET_INTERRUPT_H

/* Installs the noting handlers for SIGINT, SIGTERM and SIGHUP, keeping the
 * previous ones. Calls do not nest. */
void get_interrupt_begin(void);

/* The signal noted since get_interrupt_begin, or 0. */
int get_interrupt_pending(void);

/* Restores the previous handlers; if a signal was noted, raises it again.
 * Returns that signal (when its handler returned), or 0. */
int get_interrupt_end(void);

#endif
