import type { ModelSpec } from '@vtrain/protocol';

/** tfjs layer classes whose gradient needs the Conv2D backprop kernels. */
const CONVOLUTION_CLASS =
  /"class_name"\s*:\s*"(?:Conv1D|Conv2D|Conv2DTranspose|Conv3D|SeparableConv2D|DepthwiseConv2D)"/;

/**
 * Whether training `spec` needs convolution gradients (`Conv2DBackpropFilter`,
 * which tfjs-backend-wasm 4.22 lacks, docs/architecture.md#tfjs-backends-and-their-speed): every
 * 'cnn' of the zoo, and a
 * custom topology that names a convolution layer class anywhere (nested models
 * included, hence a search of the serialised topology).
 */
export function modelNeedsConvolution(spec: ModelSpec): boolean {
  switch (spec.kind) {
    case 'mlp':
      return false;
    case 'cnn':
      return true;
    case 'custom':
      return CONVOLUTION_CLASS.test(JSON.stringify(spec.topology));
  }
}
