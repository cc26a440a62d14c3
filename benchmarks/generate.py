"""Generation engine throughput, side by side in one run: the reference settings (fp32, batch 4, one generator
re-created with seed 42 for every batch, SynCDR/diffusers_generation) vs ours (fp16/bf16 on GPU, larger batches,
SDPA attention, one generator per image), both through `syncdr.translate.engine` with Img2Img (strength 0.3, 50 steps,
guidance 10), on a Stable-Diffusion-1.5-sized UNet/VAE/text encoder with random weights (same compute as the real one).

    python benchmarks/generate.py                        # GPU: SD-1.5 size, 512 px
    python benchmarks/generate.py --tiny --device cpu    # no GPU: tiny models, proves it runs (ratio not meaningful)
"""
import argparse, os, tempfile, time
from pathlib import Path
import torch
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from syncdr.translate.engine import generate, Translator
from syncdr.translate.diffusion import Img2ImgTranslator
from syncdr.test_utils import make_image_tree, tiny_sd_pipeline, tiny_clip_tokenizer
from syncdr.splits import split_tree

def sd15_pipeline():
    "Stable Diffusion 1.5's architecture (UNet 860M, VAE, CLIP ViT-L/14 text encoder) with random weights."
    import diffusers as D
    from transformers import CLIPTextModel, CLIPTextConfig
    tok = tiny_clip_tokenizer(tempfile.mkdtemp())
    unet = D.UNet2DConditionModel(sample_size=64, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280, 1280),
                                  down_block_types=('CrossAttnDownBlock2D',)*3 + ('DownBlock2D',), up_block_types=('UpBlock2D',) + ('CrossAttnUpBlock2D',)*3,
                                  cross_attention_dim=768, attention_head_dim=8)
    vae = D.AutoencoderKL(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
                          down_block_types=('DownEncoderBlock2D',)*4, up_block_types=('UpDecoderBlock2D',)*4, sample_size=512)
    te = CLIPTextModel(CLIPTextConfig(vocab_size=len(tok), hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
                                      max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1))
    sched = D.PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule='scaled_linear', skip_prk_steps=True, steps_offset=1)
    return D.StableDiffusionImg2ImgPipeline(vae=vae, text_encoder=te, tokenizer=tok, unet=unet, scheduler=sched, safety_checker=None,
                                            feature_extractor=None, requires_safety_checker=False)

class ReferenceSettings(Img2ImgTranslator):
    "The reference's call: fp32, one generator re-seeded with 42 for the whole batch, default attention."
    name = 'img2img-reference'
    @torch.inference_mode()
    def translate(self, images, seeds):
        from syncdr.translate.diffusion import _square
        return self.pipe(prompt=[self.prompt]*len(images), image=_square(images, self.size), strength=self.strength,
                         guidance_scale=self.guidance_scale, num_inference_steps=self.steps, generator=torch.Generator('cpu').manual_seed(42)).images

def run(tr, lst, out, bs):
    if tr.pipe.device.type == 'cuda': torch.cuda.synchronize()
    t = time.perf_counter()
    res = generate(tr, lst, out, 'clipart', 'painting', batch_size=bs, show_progress=False)
    if tr.pipe.device.type == 'cuda': torch.cuda.synchronize()
    return res['written'] / (time.perf_counter() - t)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--tiny', action='store_true'); p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--n', type=int, default=32); p.add_argument('--batch', type=int, default=16)
    a = p.parse_args()
    tmp = Path(tempfile.mkdtemp())
    root = make_image_tree(tmp/'data', domains=('clipart', 'painting'), n_classes=4, n_per_class=a.n//4*2, size=64)
    split_tree(root, ['clipart', 'painting'], out=tmp/'lists'); lst = tmp/'lists'/'clipart_train.txt'
    size = 32 if a.tiny else 512
    make = (lambda: __import__('diffusers').StableDiffusionImg2ImgPipeline.from_pretrained(tiny_sd_pipeline(tmp/'tiny'), safety_checker=None)) if a.tiny else sd15_pipeline
    half = ('bf16' if torch.cuda.is_bf16_supported() else 'fp16') if a.device.startswith('cuda') else 'fp32'  # the speed comparison is about half precision; the reference's Img2Img default is fp32
    ref = ReferenceSettings(make(), 'A painting of an object.', size=size, device=a.device, dtype='fp32')
    if a.device.startswith('cuda'):
        from diffusers.models.attention_processor import AttnProcessor
        ref.pipe.unet.set_attn_processor(AttnProcessor())  # explicit attention matmuls, as diffusers ran without SDPA
    ours = Img2ImgTranslator(make(), 'A painting of an object.', size=size, device=a.device, dtype=half)
    run(ref, lst, tmp/'warm1', 4); run(ours, lst, tmp/'warm2', a.batch)  # warm-up (and a first full pass for caches)
    r_ref, r_ours = run(ref, lst, tmp/'ref', 4), run(ours, lst, tmp/'ours', a.batch)
    print(f"{'tiny random' if a.tiny else 'SD-1.5-sized random'} Img2Img, {size}px, 50 steps x strength 0.3, on {a.device}")
    print(f'reference settings (fp32, batch 4, per-batch seed 42)   {r_ref:8.2f} images/s')
    print(f'syncdr ({ours.pipe.dtype}, batch {a.batch}, SDPA, per-image seeds) {r_ours:8.2f} images/s   {r_ours/r_ref:5.2f}x (GPU target >= 5x)')

if __name__ == '__main__': main()
