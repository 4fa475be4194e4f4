// Each kernel family adds its functions to the addon's exports.
#pragma once

#include <napi.h>

namespace ma {

void register_matmul(Napi::Env env, Napi::Object exports);
void register_elementwise(Napi::Env env, Napi::Object exports);
void register_optim(Napi::Env env, Napi::Object exports);
void register_conv(Napi::Env env, Napi::Object exports);

}  // namespace ma
