/** The secret the webhook benchmark server verifies and the runner signs with. */
export const benchWebhookSecret = 'whsec_benchmark_secret_for_directory_sync'
