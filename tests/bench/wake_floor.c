/* The floor of a live reader's CPU cost, the reference of live_cpu.sh: a loop that does nothing but
 * what any reader of the board must -- wake on a fixed deadline grid (the worker's 40 ms), read the
 * bytes waiting on the serial line, drop them -- on the same emulated stream. What it costs is the
 * machine's price of a wake-up (timer, scheduler, cache refill; about 45 us on the development VM),
 * which no work saved in our code can reduce.
 * Usage: wake_floor TTY GRID_MS. Sends 'b' (start streaming) and runs until killed. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: wake_floor TTY GRID_MS\n");
        return 2;
    }
    int fd = open(argv[1], O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    long grid_ns = atol(argv[2]) * 1000000L;
    struct termios tio;
    if (fd < 0 || grid_ns <= 0 || tcgetattr(fd, &tio) < 0) {
        perror(argv[1]);
        return 2;
    }
    cfmakeraw(&tio);
    if (tcsetattr(fd, TCSANOW, &tio) < 0 || write(fd, "b", 1) != 1) {
        perror(argv[1]);
        return 2;
    }
    char buf[4096];
    struct timespec due, now;
    clock_gettime(CLOCK_MONOTONIC, &due);
    for (;;) {
        due.tv_nsec += grid_ns;
        while (due.tv_nsec >= 1000000000L)
            due.tv_sec++, due.tv_nsec -= 1000000000L;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (due.tv_sec - now.tv_sec) * 1000 + (due.tv_nsec - now.tv_nsec) / 1000000;
        struct pollfd none = { -1, 0, 0 };
        if (ms > 0)
            poll(&none, 1, (int)ms);
        while (read(fd, buf, sizeof buf) > 0)
            ;
    }
}
