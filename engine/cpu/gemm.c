/* The layers' matrix product (gemm.h). In general B is packed, a panel of columns and a
 * run of the summed index at a time, into a buffer on the stack, and the tiles run down
 * the rows of C against it. Products a few columns wide go to the narrow kernel, and
 * products a few rows tall read B in place; every path sums each element in the same
 * order. Threads split C by blocks of columns and groups of rows, never the sum. */
#include "gemm.h"

#include <omp.h>
#include <string.h>

/* Terms of the sum packed at once: one run, whose panel (at most 256 × 32 floats, 32 KiB)
 * stays near the core, in the first- or second-level cache, while every tile of a row
 * group reads it. */
enum { DEPTH_CHUNK = NN_GEMM_RUN };

/* Row tiles per task: enough that packing the panel costs little beside them. */
enum { GROUP_TILES = 16 };

/* Products at most this many columns wide go to the narrow kernel, in groups of
 * NARROW_GROUP_CALLS calls of NN_GEMM_NARROW_ROWS rows per task. */
enum { NARROW_COLUMNS = 4, NARROW_GROUP_CALLS = 16 };

/* Products of fewer rows than one tile (a recurrent step of a batch of one) read B in
 * place: packing it would cost as much as the product. */
enum { SHORT_ROWS = NN_GEMM_TILE_ROWS - 1 };

/* Below this many multiply-adds a parallel region costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 16 };

static const nn_gemm_tiles *active_tiles(void)
{
    switch (nn_simd_active()) {
    case NN_SIMD_AVX512:
        return &nn_gemm_tiles_avx512;
    case NN_SIMD_AVX2:
        return &nn_gemm_tiles_avx2;
    default:
        return &nn_gemm_tiles_portable;
    }
}

/* packed (depth, width) = B[p0 + p][j0 + j] for j < cols, zero beyond. */
static void pack_panel(float *packed, int width, bool b_transposed, const float *b, int ldb, int p0,
                       int depth, int j0, int cols)
{
    if (b_transposed) {
        for (int j = 0; j < cols; j++) {
            const float *column = b + (size_t)(j0 + j) * (size_t)ldb + p0;
            for (int p = 0; p < depth; p++)
                packed[(size_t)p * (size_t)width + (size_t)j] = column[p];
        }
        for (int p = 0; p < depth && cols < width; p++)
            memset(packed + (size_t)p * (size_t)width + cols, 0,
                   sizeof(float) * (size_t)(width - cols));
        return;
    }
    for (int p = 0; p < depth; p++) {
        float *row = packed + (size_t)p * (size_t)width;
        memcpy(row, b + (size_t)(p0 + p) * (size_t)ldb + j0, sizeof(float) * (size_t)cols);
        memset(row + cols, 0, sizeof(float) * (size_t)(width - cols));
    }
}

/* rows_of_a[r] = &A[i0 + r][p0] for r < count; rows past `rows` repeat the last one, so a
 * kernel may read all `count` without leaving A. */
static void point_at_rows(const float **rows_of_a, int count, const float *a, bool a_transposed,
                          int lda, int i0, int rows, int p0)
{
    for (int r = 0; r < count; r++) {
        size_t i = (size_t)i0 + (size_t)(r < rows ? r : rows - 1);
        rows_of_a[r] = a_transposed ? a + (size_t)p0 * (size_t)lda + i
                                    : a + i * (size_t)lda + (size_t)p0;
    }
}

/* Where the runs of a sum start: the first from C when accumulating, later ones added. */
static nn_gemm_start run_start(int p0, bool accumulate)
{
    return p0 > 0 ? NN_GEMM_ADD_TO_C : accumulate ? NN_GEMM_FROM_C : NN_GEMM_FROM_ZERO;
}

/* nn_cpu_gemm for n ≤ NARROW_COLUMNS: column by column, B read in place. */
static void narrow_product(const nn_gemm_tiles *tiles, bool a_transposed, bool b_transposed,
                           int m, int n, int k, const float *a, int lda, const float *b,
                           int ldb, float *c, int ldc, bool accumulate)
{
    const int calls = (m + NN_GEMM_NARROW_ROWS - 1) / NN_GEMM_NARROW_ROWS;
    const int groups = (calls + NARROW_GROUP_CALLS - 1) / NARROW_GROUP_CALLS;
    const ptrdiff_t a_step = a_transposed ? lda : 1, b_step = b_transposed ? 1 : ldb;
    const double work = (double)m * (double)n * (double)k;
#pragma omp parallel for schedule(dynamic, 1) if (work > PARALLEL_THRESHOLD)
    for (int task = 0; task < n * groups; task++) {
        const int j = task % n;
        const int first_call = task / n * NARROW_GROUP_CALLS;
        const int last_call =
            first_call + NARROW_GROUP_CALLS < calls ? first_call + NARROW_GROUP_CALLS : calls;
        for (int p0 = 0; p0 < k; p0 += NN_GEMM_RUN) {
            const int depth = k - p0 < NN_GEMM_RUN ? k - p0 : NN_GEMM_RUN;
            const float *column = b_transposed ? b + (size_t)j * (size_t)ldb + (size_t)p0
                                               : b + (size_t)p0 * (size_t)ldb + (size_t)j;
            for (int call = first_call; call < last_call; call++) {
                const int i0 = call * NN_GEMM_NARROW_ROWS;
                const int rows = m - i0 < NN_GEMM_NARROW_ROWS ? m - i0 : NN_GEMM_NARROW_ROWS;
                const float *rows_of_a[NN_GEMM_NARROW_ROWS];
                point_at_rows(rows_of_a, NN_GEMM_NARROW_ROWS, a, a_transposed, lda, i0, rows,
                              p0);
                tiles->narrow(c + (size_t)i0 * (size_t)ldc + (size_t)j, ldc, rows_of_a, a_step,
                              column, b_step, depth, rows, run_start(p0, accumulate));
            }
        }
    }
}

/* nn_cpu_gemm for m ≤ SHORT_ROWS. B rows in place feed the tiles, whole panels at a time
 * (a last, partial panel is packed); Bᵀ, whose columns are B's rows, feeds the narrow
 * kernel with a block of those columns as its rows and a row of A as its column. Both
 * keep the order and rounding of the packed path. */
static void short_product(const nn_gemm_tiles *tiles, bool a_transposed, bool b_transposed,
                          int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                          float *c, int ldc, bool accumulate)
{
    const int width = b_transposed ? NN_GEMM_NARROW_ROWS : tiles->width;
    const int blocks = (n + width - 1) / width;
    const ptrdiff_t a_step = a_transposed ? lda : 1;
    const double work = (double)m * (double)n * (double)k;
#pragma omp parallel for schedule(dynamic, 1) if (work > PARALLEL_THRESHOLD)
    for (int block = 0; block < blocks; block++) {
        const int j0 = block * width;
        const int cols = n - j0 < width ? n - j0 : width;
        for (int p0 = 0; p0 < k; p0 += NN_GEMM_RUN) {
            const int depth = k - p0 < NN_GEMM_RUN ? k - p0 : NN_GEMM_RUN;
            const nn_gemm_start start = run_start(p0, accumulate);
            if (b_transposed) {
                /* columns_of_b[r] = &B[p0][j0 + r] = b + (j0 + r)·ldb + p0 */
                const float *columns_of_b[NN_GEMM_NARROW_ROWS];
                point_at_rows(columns_of_b, NN_GEMM_NARROW_ROWS, b, false, ldb, j0, cols, p0);
                for (int i = 0; i < m; i++) {
                    const float *row_of_a = a_transposed ? a + (size_t)p0 * (size_t)lda + i
                                                         : a + (size_t)i * (size_t)lda + p0;
                    tiles->narrow(c + (size_t)i * (size_t)ldc + (size_t)j0, 1, columns_of_b, 1,
                                  row_of_a, a_step, depth, cols, start);
                }
                continue;
            }
            _Alignas(64) float packed[DEPTH_CHUNK * NN_GEMM_WIDEST_TILE];
            const float *panel = b + (size_t)p0 * (size_t)ldb + (size_t)j0;
            ptrdiff_t panel_stride = ldb;
            if (cols < width) {
                pack_panel(packed, width, false, b, ldb, p0, depth, j0, cols);
                panel = packed;
                panel_stride = width;
            }
            const float *rows_of_a[NN_GEMM_TILE_ROWS];
            point_at_rows(rows_of_a, NN_GEMM_TILE_ROWS, a, a_transposed, lda, 0, m, p0);
            tiles->tile(c + (size_t)j0, ldc, rows_of_a, a_step, panel, panel_stride, depth, m,
                        cols, start);
        }
    }
}

void nn_cpu_gemm(bool a_transposed, bool b_transposed, int m, int n, int k, const float *a, int lda,
                 const float *b, int ldb, float *c, int ldc, bool accumulate)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        for (int i = 0; i < m && !accumulate; i++)
            memset(c + (size_t)i * (size_t)ldc, 0, sizeof(float) * (size_t)n);
        return;
    }
    const nn_gemm_tiles *tiles = active_tiles();
    if (n <= NARROW_COLUMNS) {
        narrow_product(tiles, a_transposed, b_transposed, m, n, k, a, lda, b, ldb, c, ldc,
                       accumulate);
        return;
    }
    if (m <= SHORT_ROWS) {
        short_product(tiles, a_transposed, b_transposed, m, n, k, a, lda, b, ldb, c, ldc,
                      accumulate);
        return;
    }
    const int width = tiles->width; /* ≤ NN_GEMM_WIDEST_TILE, checked by test_gemm */
    const int panels = (n + width - 1) / width;
    const int row_tiles = (m + NN_GEMM_TILE_ROWS - 1) / NN_GEMM_TILE_ROWS;
    const int groups = (row_tiles + GROUP_TILES - 1) / GROUP_TILES;
    const ptrdiff_t a_step = a_transposed ? lda : 1;
    const double work = (double)m * (double)n * (double)k;
#pragma omp parallel for schedule(dynamic, 1) if (work > PARALLEL_THRESHOLD)
    for (int task = 0; task < panels * groups; task++) {
        _Alignas(64) float packed[DEPTH_CHUNK * NN_GEMM_WIDEST_TILE];
        const int j0 = task % panels * width;
        const int cols = n - j0 < width ? n - j0 : width;
        const int first_tile = task / panels * GROUP_TILES;
        const int last_tile =
            first_tile + GROUP_TILES < row_tiles ? first_tile + GROUP_TILES : row_tiles;
        for (int p0 = 0; p0 < k; p0 += DEPTH_CHUNK) {
            const int depth = k - p0 < DEPTH_CHUNK ? k - p0 : DEPTH_CHUNK;
            pack_panel(packed, width, b_transposed, b, ldb, p0, depth, j0, cols);
            for (int t = first_tile; t < last_tile; t++) {
                const int i0 = t * NN_GEMM_TILE_ROWS;
                const int rows = m - i0 < NN_GEMM_TILE_ROWS ? m - i0 : NN_GEMM_TILE_ROWS;
                const float *rows_of_a[NN_GEMM_TILE_ROWS];
                point_at_rows(rows_of_a, NN_GEMM_TILE_ROWS, a, a_transposed, lda, i0, rows, p0);
                tiles->tile(c + (size_t)i0 * (size_t)ldc + (size_t)j0, ldc, rows_of_a, a_step,
                            packed, width, depth, rows, cols, run_start(p0, accumulate));
            }
        }
    }
}
