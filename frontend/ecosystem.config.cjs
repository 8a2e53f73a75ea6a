// pm2 process file for the web tier on EC2; systemd starts `pm2-runtime start ecosystem.config.cjs`.
module.exports = {
  apps: [
    {
      name: 'order-web',
      script: './server.js',
      cwd: __dirname,
      exec_mode: 'cluster',
      instances: process.env.WEB_INSTANCES || 'max',
      // Traffic reaches a worker only once it has said 'ready'; a reload replaces workers one by one.
      wait_ready: true,
      listen_timeout: 15000,
      // Longer than SHUTDOWN_TIMEOUT_MS so in-flight requests finish before pm2 kills the worker.
      kill_timeout: 15000,
      // A capped heap makes V8 collect sooner: about 130 MB per worker at full load instead of 200+.
      // The live heap is about 25 MB; a young generation of 8 MB semi-spaces is enough for the
      // requests in flight. bench/run.ts starts the web tier with these same flags.
      node_args: ['--max-old-space-size=80', '--max-semi-space-size=8'],
      max_memory_restart: '300M',
      // One out and one error file shared by all workers, so the CloudWatch agent on the instance follows a
      // fixed path per stream (with a file a worker, it would follow only the newest of a glob).
      merge_logs: true,
      // The ALB in front is the one proxy whose X-Forwarded-For is believed (the web tier's default is 0).
      env: { NODE_ENV: 'production', TRUST_PROXY_HOPS: '1' },
    },
  ],
};
