/** An error the agent caused or can act on; the message names the argument or the next step. */
export class ToolError extends Error {
  override name = 'ToolError';
}
