/* Device names, the default device and the backend of each device. Knows nothing of
 * CUDA: gpu.h answers what the GPU side of this build has. */
#include "device.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu.h"

static const char ACCEPTED[] = "cpu, gpu, gpu:N (or cuda:N) and emulated";

static const struct {
    const char *name;
    nn_device_kind kind;
} device_names[] = {
    {"cpu", NN_DEVICE_CPU},
    {"gpu", NN_DEVICE_CUDA},
    {"cuda", NN_DEVICE_CUDA},
    {"emulated", NN_DEVICE_EMULATED},
};

nn_status nn_device_parse(const char *text, nn_device *device)
{
    char lower[64];
    size_t length = text ? strlen(text) : 0;
    if (!text || length == 0 || length >= sizeof lower)
        return nn_error(NN_ERR_ARGUMENT, "'%s' is not a device; expected one of %s",
                        text ? text : "(null)", ACCEPTED);
    for (size_t i = 0; i <= length; i++)
        lower[i] = (char)tolower((unsigned char)text[i]);
    /* TensorFlow writes "/device:GPU:0" and "/GPU:0". */
    const char *name = lower;
    if (strncmp(name, "/device:", 8) == 0)
        name += 8;
    else if (name[0] == '/')
        name += 1;
    const char *colon = strchr(name, ':');
    size_t name_length = colon ? (size_t)(colon - name) : strlen(name);
    for (size_t i = 0; i < sizeof device_names / sizeof device_names[0]; i++) {
        if (strlen(device_names[i].name) != name_length ||
            strncmp(name, device_names[i].name, name_length) != 0)
            continue;
        long index = 0;
        if (colon) {
            char *end = NULL;
            index = strtol(colon + 1, &end, 10);
            if (colon[1] == '\0' || *end != '\0' || index < 0 || index > 1023)
                return nn_error(NN_ERR_ARGUMENT, "'%s' is not a device: the index after ':' "
                                "must be a number from 0, as in gpu:0", text);
        }
        *device = (nn_device){device_names[i].kind, (int)index};
        return NN_OK;
    }
    return nn_error(NN_ERR_ARGUMENT, "'%s' is not a device; expected one of %s", text,
                    ACCEPTED);
}

char *nn_device_format(nn_device device, char *buf, size_t size)
{
    switch (device.kind) {
    case NN_DEVICE_CPU: snprintf(buf, size, "cpu"); break;
    case NN_DEVICE_CUDA: snprintf(buf, size, "gpu:%d", device.index); break;
    case NN_DEVICE_EMULATED: snprintf(buf, size, "emulated:%d", device.index); break;
    default: snprintf(buf, size, "unknown"); break;
    }
    return buf;
}

nn_status nn_device_check(nn_device device)
{
    char name[32], why[512];
    nn_device_format(device, name, sizeof name);
    switch (device.kind) {
    case NN_DEVICE_CPU:
        if (device.index != 0)
            return nn_error(NN_ERR_ARGUMENT, "there is one CPU device, cpu (not cpu:%d)",
                            device.index);
        return NN_OK;
    case NN_DEVICE_EMULATED:
        if (device.index != 0)
            return nn_error(NN_ERR_ARGUMENT, "there is one emulated device, emulated:0");
        return NN_OK;
    case NN_DEVICE_CUDA: {
        int count = nn_gpu_count(why, sizeof why);
        if (count == 0)
            return nn_error(NN_ERR_DEVICE, "%s is not available: %s", name, why);
        if (device.index >= count)
            return nn_error(NN_ERR_DEVICE, "%s is not available: this machine has %d GPU%s "
                            "(gpu:0%s)", name, count, count == 1 ? "" : "s",
                            count == 1 ? "" : " and up");
        return NN_OK;
    }
    default:
        return nn_error(NN_ERR_ARGUMENT, "device kind %d does not exist", (int)device.kind);
    }
}

static bool default_set;
static nn_device default_device;

nn_status nn_device_default(nn_device *device)
{
    if (default_set) {
        *device = default_device;
        return NN_OK;
    }
    const char *chosen = getenv(NN_DEVICE_ENVIRONMENT);
    if (chosen && chosen[0] != '\0') {
        nn_status status = nn_device_parse(chosen, device);
        if (status == NN_OK)
            status = nn_device_check(*device);
        if (status != NN_OK)
            return nn_error_prefix(status, "the environment variable %s=%s cannot be used",
                                   NN_DEVICE_ENVIRONMENT, chosen);
        return NN_OK;
    }
    *device = nn_gpu_count(NULL, 0) > 0 ? (nn_device){NN_DEVICE_CUDA, 0} : nn_device_cpu();
    return NN_OK;
}

nn_status nn_device_set_default(nn_device device)
{
    NN_TRY(nn_device_check(device));
    default_device = device;
    default_set = true;
    return NN_OK;
}

void nn_device_forget_default(void) { default_set = false; }

const nn_backend *nn_backend_for(nn_device device)
{
    switch (device.kind) {
    case NN_DEVICE_CPU: return nn_backend_cpu();
    case NN_DEVICE_CUDA: return nn_backend_cuda();
    case NN_DEVICE_EMULATED: return nn_backend_emulated();
    default: return NULL;
    }
}

nn_status nn_backend_clear_failure(const nn_backend *backend, nn_status status)
{
    if (status == NN_OK || !backend)
        return status;
    char message[1024];
    snprintf(message, sizeof message, "%s", nn_error_message());
    (void)backend->synchronize();
    return nn_error(status, "%s", message);
}
