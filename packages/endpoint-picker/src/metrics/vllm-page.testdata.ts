/** A realistic vLLM V1 `/metrics` page: the gauges the picker reads among many histograms (~40 KB). */
export function vllmMetricsPage(g: {
  waiting: number;
  running: number;
  kv: number;
  loras?: { running: string; waiting: string; max: number };
}): string {
  const model = 'model_name="meta-llama/Llama-3.1-8B-Instruct"';
  const lines: string[] = [
    "# HELP vllm:num_requests_running Number of requests in model execution batches.",
    "# TYPE vllm:num_requests_running gauge",
    `vllm:num_requests_running{engine="0",${model}} ${g.running}.0`,
    "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
    "# TYPE vllm:num_requests_waiting gauge",
    `vllm:num_requests_waiting{engine="0",${model}} ${g.waiting}.0`,
    "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.",
    "# TYPE vllm:kv_cache_usage_perc gauge",
    `vllm:kv_cache_usage_perc{engine="0",${model}} ${g.kv}`,
    "# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig",
    "# TYPE vllm:cache_config_info gauge",
    `vllm:cache_config_info{block_size="16",cache_dtype="auto",enable_prefix_caching="True",engine="0",gpu_memory_utilization="0.9",num_cpu_blocks="None",num_gpu_blocks="27000",prefix_caching_hash_algo="builtin"} 1.0`,
  ];
  if (g.loras) {
    lines.push(
      "# HELP vllm:lora_requests_info Running stats on lora requests.",
      "# TYPE vllm:lora_requests_info gauge",
      `vllm:lora_requests_info{max_lora="1",running_lora_adapters="old",waiting_lora_adapters=""} 1.7e+09`,
      `vllm:lora_requests_info{max_lora="${g.loras.max}",running_lora_adapters="${g.loras.running}",waiting_lora_adapters="${g.loras.waiting}"} 1.7300000001e+09`,
    );
  }
  const buckets = [
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560,
  ];
  for (const h of [
    "time_to_first_token_seconds",
    "inter_token_latency_seconds",
    "e2e_request_latency_seconds",
    "request_queue_time_seconds",
    "request_inference_time_seconds",
    "request_prefill_time_seconds",
    "request_decode_time_seconds",
    "request_prompt_tokens",
    "request_generation_tokens",
    "iteration_tokens_total",
    "request_max_num_generation_tokens",
    "request_params_n",
    "request_params_max_tokens",
    "time_per_output_token_seconds",
  ]) {
    lines.push(`# HELP vllm:${h} Histogram of ${h}.`, `# TYPE vllm:${h} histogram`);
    let c = 0;
    for (const b of buckets) {
      c += 3;
      lines.push(`vllm:${h}_bucket{engine="0",le="${b}",${model}} ${c}.0`);
    }
    lines.push(
      `vllm:${h}_bucket{engine="0",le="+Inf",${model}} ${c}.0`,
      `vllm:${h}_count{engine="0",${model}} ${c}.0`,
      `vllm:${h}_sum{engine="0",${model}} 12.5`,
    );
  }
  for (const c of [
    "prompt_tokens_total",
    "generation_tokens_total",
    "num_preemptions_total",
    "prefix_cache_queries_total",
    "prefix_cache_hits_total",
  ]) {
    lines.push(`# HELP vllm:${c} counter`, `# TYPE vllm:${c} counter`, `vllm:${c}{engine="0",${model}} 123456.0`);
  }
  lines.push(
    "# HELP python_gc_objects_collected_total Objects collected during gc",
    "# TYPE python_gc_objects_collected_total counter",
    'python_gc_objects_collected_total{generation="0"} 12345.0',
    "process_resident_memory_bytes 1.2e+10",
  );
  return `${lines.join("\n")}\n`;
}
