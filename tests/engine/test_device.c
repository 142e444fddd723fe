/* Devices: names, the default device (NNSH_DEVICE, set_device, a GPU when present), the
 * backend of each, the reason given when there is no GPU, and the emulated device that
 * the device-path tests rely on (its memory faults when the host touches it, its memory
 * limit, its injected kernel failures), and storage aliases following their base there. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "emulated/emulated.h"
#include "gpu.h"

Test(device, names_parse_and_format_both_ways)
{
    const struct { const char *text, *formatted; } names[] = {
        {"cpu", "cpu"},         {"CPU", "cpu"},          {"gpu", "gpu:0"},
        {"gpu:1", "gpu:1"},     {"cuda:0", "gpu:0"},     {"/device:GPU:0", "gpu:0"},
        {"/GPU:2", "gpu:2"},    {"emulated", "emulated:0"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        nn_device device;
        char text[32];
        cr_assert_eq(nn_device_parse(names[i].text, &device), NN_OK, "%s: %s", names[i].text,
                     nn_error_message());
        cr_assert_str_eq(nn_device_format(device, text, sizeof text), names[i].formatted);
    }
}

Test(device, bad_names_say_what_is_accepted)
{
    const char *bad[] = {"tpu", "gpu:", "gpu:x", "gpu:-1", "", "cpu:0:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nn_device device;
        cr_assert_eq(nn_device_parse(bad[i], &device), NN_ERR_ARGUMENT, "'%s' was accepted",
                     bad[i]);
        cr_assert(strstr(nn_error_message(), "gpu") != NULL, "%s", nn_error_message());
    }
}

Test(device, the_cpu_and_the_emulated_device_always_exist)
{
    cr_assert_eq(nn_device_check(nn_device_cpu()), NN_OK);
    cr_assert_eq(nn_device_check((nn_device){NN_DEVICE_EMULATED, 0}), NN_OK);
    cr_assert_eq(nn_device_check((nn_device){NN_DEVICE_CPU, 1}), NN_ERR_ARGUMENT);
    cr_assert_eq(nn_backend_for(nn_device_cpu()), nn_backend_cpu());
    cr_assert_eq(nn_backend_for((nn_device){NN_DEVICE_EMULATED, 0}), nn_backend_emulated());
}

Test(device, a_missing_gpu_is_refused_with_the_exact_reason)
{
    char why[512];
    int count = nn_gpu_count(why, sizeof why);
    if (count > 0) {
        cr_assert_eq(nn_device_check((nn_device){NN_DEVICE_CUDA, 0}), NN_OK);
        cr_assert_eq(nn_device_check((nn_device){NN_DEVICE_CUDA, count}), NN_ERR_DEVICE);
        return;
    }
    cr_assert(why[0] != '\0', "no GPU and no reason");
    /* Either this build has no CUDA, or the runtime says why (e.g. "cudaGetDeviceCount:
     * no CUDA-capable device is detected"). */
    cr_assert(strstr(why, "built without") || strstr(why, "cudaGetDeviceCount"), "%s", why);
    cr_assert_eq(nn_device_check((nn_device){NN_DEVICE_CUDA, 0}), NN_ERR_DEVICE);
    cr_assert(strstr(nn_error_message(), why) != NULL, "%s", nn_error_message());
    cr_assert_eq(nn_device_set_default((nn_device){NN_DEVICE_CUDA, 0}), NN_ERR_DEVICE);
    nn_gpu_info info;
    cr_assert_eq(nn_gpu_describe(0, &info), NN_ERR_DEVICE);
}

Test(device, the_default_is_a_gpu_when_present_else_the_cpu)
{
    unsetenv(NN_DEVICE_ENVIRONMENT);
    nn_device device;
    cr_assert_eq(nn_device_default(&device), NN_OK);
    if (nn_gpu_count(NULL, 0) > 0)
        cr_assert(nn_device_equal(device, (nn_device){NN_DEVICE_CUDA, 0}));
    else
        cr_assert(nn_device_equal(device, nn_device_cpu()));
}

Test(device, nnsh_device_and_set_device_choose_another)
{
    nn_device device;
    setenv(NN_DEVICE_ENVIRONMENT, "emulated", 1);
    cr_assert_eq(nn_device_default(&device), NN_OK, "%s", nn_error_message());
    cr_assert_eq(device.kind, NN_DEVICE_EMULATED);
    /* set_device wins over the environment, until forgotten. */
    cr_assert_eq(nn_device_set_default(nn_device_cpu()), NN_OK);
    cr_assert_eq(nn_device_default(&device), NN_OK);
    cr_assert_eq(device.kind, NN_DEVICE_CPU);
    nn_device_forget_default();
    cr_assert_eq(nn_device_default(&device), NN_OK);
    cr_assert_eq(device.kind, NN_DEVICE_EMULATED);
    setenv(NN_DEVICE_ENVIRONMENT, "tpu", 1);
    cr_assert_eq(nn_device_default(&device), NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "NNSH_DEVICE=tpu") != NULL, "%s", nn_error_message());
    if (nn_gpu_count(NULL, 0) == 0) {
        setenv(NN_DEVICE_ENVIRONMENT, "gpu", 1);
        cr_assert_eq(nn_device_default(&device), NN_ERR_DEVICE,
                     "asking for a GPU that is not there must not fall back silently");
        cr_assert(strstr(nn_error_message(), "NNSH_DEVICE=gpu") != NULL, "%s", nn_error_message());
    }
}

Test(emulated_device, copies_go_through_the_backend_both_ways)
{
    const nn_backend *device = nn_backend_emulated();
    cr_assert(!device->host_visible);
    float host[4] = {1, 2, 3, 4}, back[4] = {0};
    void *memory;
    cr_assert_eq(device->memory_alloc(&memory, sizeof host, 0), NN_OK);
    cr_assert_eq(device->copy_to_host(back, memory, sizeof back), NN_OK);
    cr_assert_eq(back[2], 0.0f, "new device memory is zero");
    cr_assert_eq(device->copy_from_host(memory, host, sizeof host), NN_OK);
    device->fill((float *)memory + 1, 7.0f, 2);
    cr_assert_eq(device->copy_to_host(back, memory, sizeof back), NN_OK);
    cr_assert_eq(back[0], 1.0f);
    cr_assert_eq(back[1], 7.0f);
    cr_assert_eq(back[2], 7.0f);
    cr_assert_eq(back[3], 4.0f);
    device->memory_free(memory);
    cr_assert_eq(nn_emulated_memory_in_use(), 0);
}

Test(emulated_device, the_host_touching_device_memory_faults, .signal = SIGSEGV)
{
    void *memory;
    cr_assert_eq(nn_backend_emulated()->memory_alloc(&memory, 64, 0), NN_OK);
    ((volatile float *)memory)[0] = 1.0f; /* what a layer forgetting the backend would do */
}

Test(emulated_device, a_full_device_is_an_error_and_memory_stays_usable)
{
    const nn_backend *device = nn_backend_emulated();
    nn_emulated_set_memory_limit(1000);
    void *small, *big;
    cr_assert_eq(device->memory_alloc(&small, 600, 0), NN_OK);
    cr_assert_eq(device->memory_alloc(&big, 600, 0), NN_ERR_MEMORY);
    cr_assert_null(big);
    cr_assert(strstr(nn_error_message(), "out of device memory") != NULL, "%s",
              nn_error_message());
    device->memory_free(small);
    cr_assert_eq(device->memory_alloc(&big, 600, 0), NN_OK, "freed memory was not returned");
    device->memory_free(big);
    nn_emulated_set_memory_limit(0);
}

Test(emulated_device, a_host_pointer_given_to_a_kernel_is_an_error)
{
    /* A GPU would fault; the emulated device, which could run it, refuses it too. */
    const nn_backend *device = nn_backend_emulated();
    float host[4] = {0};
    device->fill(host, 1.0f, 4);
    cr_assert_eq(device->check(), NN_ERR_DEVICE);
    cr_assert(strstr(nn_error_message(), "fill: argument 1 is not device memory") != NULL, "%s",
              nn_error_message());
    cr_assert_eq(host[0], 0.0f, "the kernel ran on host memory");
    void *memory;
    cr_assert_eq(device->memory_alloc(&memory, 16, 0), NN_OK);
    float back[4];
    cr_assert_eq(device->copy_to_host(back, host, sizeof back), NN_ERR_DEVICE);
    device->memory_free(memory);
}

Test(emulated_device, a_failed_kernel_is_reported_by_the_next_check)
{
    const nn_backend *device = nn_backend_emulated();
    void *memory;
    cr_assert_eq(device->memory_alloc(&memory, 16, 0), NN_OK);
    nn_emulated_fail_kernel(2);
    device->fill(memory, 1.0f, 4);
    cr_assert_eq(device->check(), NN_OK);
    device->fill(memory, 2.0f, 4);
    cr_assert_eq(device->check(), NN_ERR_DEVICE);
    cr_assert(strstr(nn_error_message(), "fill") != NULL, "%s", nn_error_message());
    cr_assert_eq(device->check(), NN_OK, "a failure was reported twice");
    device->memory_free(memory);
}

/* How a model gathers a layer's weight into its block: the layer's storage becomes an
 * alias, and every header on it (a Lua handle) reads the block, wherever it moves. */
Test(emulated_device, an_alias_follows_its_base_and_keeps_it_alive)
{
    nn_storage *base, *second_base, *other;
    cr_assert_eq(nn_storage_create(&base, 8 * sizeof(float)), NN_OK);
    for (int i = 0; i < 8; i++)
        ((float *)base->data)[i] = (float)i;
    nn_tensor *weight, *held;
    nn_shape shape = NN_SHAPE(3);
    cr_assert_eq(nn_tensor_create(&weight, NN_DTYPE_F32, &shape), NN_OK);
    cr_assert_eq(nn_tensor_share(&held, weight), NN_OK);

    cr_assert_neq(nn_storage_alias(weight->storage, base, 6 * sizeof(float)), NN_OK,
                  "3 floats from float 6 of 8 do not fit");
    cr_assert(strstr(nn_error_message(), "does not fit") != NULL, "%s", nn_error_message());
    cr_assert_eq(nn_storage_alias(weight->storage, base, 4 * sizeof(float)), NN_OK);
    cr_assert_eq(nn_tensor_f32(held)[0], 4.0f);
    cr_assert_eq(nn_tensor_f32(held)[2], 6.0f);
    nn_tensor_f32(weight)[1] = 50.0f;
    cr_assert_eq(((float *)base->data)[5], 50.0f, "writes through the alias land in the base");
    cr_assert_eq(nn_storage_create(&other, sizeof(float)), NN_OK);
    cr_assert_neq(nn_storage_alias(other, weight->storage, 0), NN_OK, "no alias of an alias");

    nn_device emulated = {NN_DEVICE_EMULATED, 0};
    cr_assert_eq(nn_storage_move(base, emulated), NN_OK);
    nn_storage_release(base); /* the alias still holds it */
    cr_assert(nn_device_equal(nn_tensor_device(held), emulated));
    float back[3] = {0};
    cr_assert_eq(nn_tensor_read(held, back), NN_OK);
    cr_assert_eq(back[0], 4.0f);
    cr_assert_eq(back[1], 50.0f);
    cr_assert_eq(back[2], 6.0f);
    cr_assert_gt(nn_emulated_memory_in_use(), 0);

    /* Aliasing a new block lets go of the old one (its last holder). */
    cr_assert_eq(nn_storage_create(&second_base, 3 * sizeof(float)), NN_OK);
    cr_assert_eq(nn_storage_alias(weight->storage, second_base, 0), NN_OK);
    cr_assert_eq(nn_emulated_memory_in_use(), 0);
    cr_assert(nn_tensor_on_host(held));
    nn_storage_release(second_base);
    nn_storage_release(other);
    nn_tensor_free(weight);
    nn_tensor_free(held);
}

Test(emulated_device, whole_int64_elements_go_in_and_out_exactly)
{
    nn_tensor *host = NULL, *device = NULL;
    nn_shape shape = NN_SHAPE(3);
    cr_assert_eq(nn_tensor_create(&host, NN_DTYPE_I64, &shape), NN_OK);
    cr_assert_eq(nn_tensor_to(&device, host, (nn_device){NN_DEVICE_EMULATED, 0}), NN_OK);
    const int64_t big = (INT64_C(1) << 53) + 1; /* a double rounds it to 2^53 */
    nn_tensor_set_int64(device, 0, big);
    nn_tensor_set_int64(device, 1, INT64_MIN);
    nn_tensor_set_int64(device, 2, INT64_MAX);
    cr_expect_eq(nn_tensor_get_int64(device, 0), big);
    cr_expect_eq(nn_tensor_get_int64(device, 1), INT64_MIN);
    cr_expect_eq(nn_tensor_get_int64(device, 2), INT64_MAX);
    /* Other dtypes convert and saturate as nn_tensor_set does. */
    nn_tensor *bytes = NULL;
    cr_assert_eq(nn_tensor_create(&bytes, NN_DTYPE_U8, &shape), NN_OK);
    nn_tensor_set_int64(bytes, 0, 300);
    nn_tensor_set_int64(bytes, 1, -5);
    nn_tensor_set_int64(bytes, 2, 7);
    cr_expect_eq(nn_tensor_get_int64(bytes, 0), 255);
    cr_expect_eq(nn_tensor_get_int64(bytes, 1), 0);
    cr_expect_eq(nn_tensor_get_int64(bytes, 2), 7);
    nn_tensor_free(bytes);
    nn_tensor_free(device);
    nn_tensor_free(host);
    cr_expect_eq(nn_emulated_memory_in_use(), 0);
}
