/* The sandbox ("pause") image's one program. It holds the pod's namespaces for as long as the
 * pod lives: it waits in pause(), reaps any child handed to it (PID 1 of a shared PID
 * namespace inherits orphans), and exits 0 on SIGTERM or SIGINT. */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static void reap(int signal) {
    (void)signal;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

static void leave(int signal) {
    (void)signal;
    _exit(0);
}

int main(void) {
    struct sigaction action = {0};
    action.sa_handler = leave;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    action.sa_handler = reap;
    action.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    sigaction(SIGCHLD, &action, NULL);
    for (;;)
        pause();
}
