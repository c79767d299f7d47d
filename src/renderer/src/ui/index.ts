// Small shared components and helpers; the editor (S1) imports them too, so their props stay stable.
export { Button, type ButtonProps } from './Button';
export { IconButton, type IconButtonProps } from './IconButton';
export { Tooltip, type TooltipProps } from './Tooltip';
export { Modal, type ModalProps } from './Modal';
export { ConfirmDialog, type ConfirmDialogProps } from './ConfirmDialog';
export { ProgressBar, type ProgressBarProps } from './ProgressBar';
export { Toast, useToast, InlineNotice, type ToastMessage } from './Toast';
export { Slider, type SliderProps } from './Slider';
export { SegmentedControl, type SegmentedControlProps, type SegmentOption } from './SegmentedControl';
export { Field, type FieldProps } from './Field';
export { useShortcut, type ShortcutOptions } from './useShortcut';
export { formatShortcut, matchesCombo, parseCombo, isTextEntry, isMac } from './shortcut';
export { formatEta, formatDuration, formatSeconds, formatBytes, formatFps, formatLoss, plural } from './format';
