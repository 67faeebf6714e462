// A bound on work that starts at different times: at most `size` run at once, the others wait their
// turn in the order they asked.
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      // The slot goes straight to the next in line, if any.
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
