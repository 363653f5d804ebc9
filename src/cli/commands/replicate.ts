/** zkms replicate identity|recipients (issue: Replicate keys). */
import type { Command } from '../command.js';

export const commands: Record<string, Command> = {};
