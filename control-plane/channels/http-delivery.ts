/** One HTTP POST of JSON a channel asks for. */
export interface HttpDelivery {
  url: string;
  body: string;
  headers: Record<string, string>;
}
