/* Frame-major blocks to and from columns (base/frames.h): every channel count the sources deliver
 * (1 to 16, the two-channel shuffles among them), every channel, lengths that are and are not
 * multiples of the vector width, against the plain loop; the other channels' values untouched. */
#include "tap.h"

#include "base/frames.h"

int main(void)
{
    enum { N = 37 };
    static double frames[N * 16], want[N * 16], col[N], got[N];
    int bad_get = 0, bad_put = 0, cases = 0;
    for (int nch = 1; nch <= 16; nch++)
        for (int c = 0; c < nch; c++)
            for (int n = 0; n <= N; n += n < 9 ? 1 : 7) {
                for (int i = 0; i < N * 16; i++)
                    frames[i] = want[i] = i * 0.25 - 3;
                for (int i = 0; i < n; i++)
                    col[i] = 1000 + i;
                dw_frames_get_column(got, frames, nch, c, n);
                for (int i = 0; i < n; i++)
                    bad_get += got[i] != frames[i * nch + c];
                dw_frames_put_column(frames, nch, c, col, n);
                for (int i = 0; i < n; i++)
                    want[i * nch + c] = col[i];
                for (int i = 0; i < N * 16; i++)
                    bad_put += frames[i] != want[i];
                cases++;
            }
    CHECK("a column out of frames: every value, for 1-16 channels, every channel, any length",
          bad_get == 0, "%d wrong values in %d cases", bad_get, cases);
    CHECK("a column into frames: every value, the other channels and what lies past n untouched",
          bad_put == 0, "%d wrong values in %d cases", bad_put, cases);
    TAP_DONE();
}
