// Whether the device's connection is down right now, from the core's connection events: every view
// that shows a device says so instead of silently showing stale data.
import { onUnmounted, ref, type Ref } from 'vue';
import { on } from '../api';

export function useConnectionLost(device: () => string, onBack?: () => void): Ref<boolean> {
  const lost = ref(false);
  const off = on('connection', (c) => {
    if (c.device !== device()) return;
    if (c.state === 'lost' || c.state === 'reconnecting') lost.value = true;
    else if (c.state === 'connected' && lost.value) {
      lost.value = false;
      onBack?.();
    }
  });
  onUnmounted(off);
  return lost;
}
