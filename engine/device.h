/* Devices: their names ("cpu", "gpu:0"), which one models use by default, and the
 * backend (kernel table) of each. Like Keras, a GPU is the default when one is present;
 * nn_device_set_default or the NNSH_DEVICE environment variable choose another.
 *
 *   nn_device device;
 *   NN_TRY(nn_device_parse("gpu:0", &device));
 *   NN_TRY(nn_device_check(device));               (exists in this build and machine)
 *   const nn_backend *backend = nn_backend_for(device); */
#ifndef NN_DEVICE_H
#define NN_DEVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "status.h"
#include "tensor.h"

/* The environment variable that picks the default device: cpu, gpu or gpu:N. */
#define NN_DEVICE_ENVIRONMENT "NNSH_DEVICE"

/* "cpu", "gpu", "gpu:1", "cuda:1", "/device:GPU:0", "emulated" (any case); an unknown
 * name is an error listing the accepted forms. */
nn_status nn_device_parse(const char *text, nn_device *device);
/* "cpu", "gpu:0", "emulated:0". Returns buf. */
char *nn_device_format(nn_device device, char *buf, size_t size);

/* NN_OK when this build and machine have the device; otherwise an error that says why
 * (built without CUDA, no such GPU, the driver's message). */
nn_status nn_device_check(nn_device device);

/* The device new models use: the one given to nn_device_set_default, else NNSH_DEVICE,
 * else gpu:0 when a GPU is present, else the CPU. An NNSH_DEVICE that does not parse or
 * names a device that is not there is an error that names the variable. */
nn_status nn_device_default(nn_device *device);
/* Checks the device and makes it the default for models created afterwards. */
nn_status nn_device_set_default(nn_device device);
/* Forgets nn_device_set_default: the environment and the hardware decide again. */
void nn_device_forget_default(void);

/* The backend of a device: the CPU's, CUDA's or the emulated one. NULL for a device
 * nn_device_check refuses. */
const nn_backend *nn_backend_for(nn_device device);

/* For an operation that failed with `status` (returned): a failure a device call noted
 * without reporting it (a queued kernel, or a query such as the convolution's workspace
 * sizing, which leaves the report to the convolution) would otherwise surface in the
 * next, unrelated call. Waits for the device, clears its record and keeps the message. */
nn_status nn_backend_clear_failure(const nn_backend *backend, nn_status status);

#endif
