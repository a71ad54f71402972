/** The Anthropic API key lives in VS Code's SecretStorage only: never in settings, never in logs. */
import * as vscode from "vscode";

const SECRET_KEY = "promptls.anthropicApiKey";

export function readApiKey(context: vscode.ExtensionContext): Thenable<string | undefined> {
  return context.secrets.get(SECRET_KEY);
}

/** Asks for the key in a password box; returns true when a key was stored. */
export async function promptForApiKey(context: vscode.ExtensionContext): Promise<boolean> {
  const key = await vscode.window.showInputBox({
    title: "promptls: Anthropic API key",
    prompt: "Stored in VS Code's secret storage and handed to the promptls server for exact token counts.",
    placeHolder: "sk-ant-…",
    password: true,
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim().length === 0 ? "Enter a key, or press Escape to cancel." : undefined),
  });
  if (key === undefined) {
    return false;
  }
  await context.secrets.store(SECRET_KEY, key.trim());
  return true;
}

export async function clearApiKey(context: vscode.ExtensionContext): Promise<void> {
  await context.secrets.delete(SECRET_KEY);
}

export function onApiKeyChanged(context: vscode.ExtensionContext, listener: () => void): vscode.Disposable {
  return context.secrets.onDidChange((e) => {
    if (e.key === SECRET_KEY) {
      listener();
    }
  });
}
