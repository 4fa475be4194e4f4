/**
 * Native float32 kernels for tfjs's cpu backend (C++ addon in native/). Installing them swaps
 * tfjs's JS kernels for native ones wherever the dtype and attributes are supported and falls
 * back to the original kernel otherwise; without the addon everything keeps running on JS.
 */
export {
  installNativeKernels,
  nativeAddon,
  nativeStatus,
  setNativeThreads,
  uninstallNativeKernels,
  type NativeKernelStatus,
  type NativeStatus,
} from './install.js';
export type { NativeAddon, NativeAddonInfo } from './addon.js';
export { gatherRowsTensor } from './batches.js';
export {
  NativeAdamOptimizer,
  NativeAdamWOptimizer,
  NativeMomentumOptimizer,
  NativeSGDOptimizer,
} from './optimizers.js';
