"""Request bodies of the sandbox routes, as pydantic models that follow the API documentation.

Form routes (media, batch, story) and JSON routes (v2 video tools) are validated with these models, so a bad
field answers 422 in FastAPI's shape: ``{"detail": [{"loc": ["body", field], "msg": ..., "type": ...}]}``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MotionType = Literal[
    "Auto",
    "AutoT3",
    "KlingAI",
    "KlingT4",
    "LumaAI",
    "LumaRay2",
    "VeoFast",
    "Veo",
    "RunwayML",
    "MinimaxHailuo",
    "Seedance",
    "SeedanceFast",
    "Hunyuan",
    "Pixverse",
    "PixverseT3",
    "PicoMotion",
    "StaticMotion",
    "Wan",
    "Sora",
    "SoraPro",
    "TryOnVideo",
]
StoryMotionType = Literal[
    "Auto",
    "AutoT3",
    "KlingAI",
    "KlingT4",
    "LumaAI",
    "LumaRay2",
    "VeoFast",
    "Veo",
    "RunwayML",
    "MinimaxHailuo",
    "Seedance",
    "SeedanceFast",
    "Hunyuan",
    "Pixverse",
    "PixverseT3",
    "PicoMotion",
    "StaticMotion",
    "Wan",
    "Sora",
    "SoraPro",
]
CameraControl = Literal[
    "",
    "Static",
    "Crane up",
    "Crane down",
    "Tilt up",
    "Tilt down",
    "Pan right",
    "Pan left",
    "Roll right",
    "Roll left",
    "Orbit right",
    "Orbit left",
    "Rotate 360",
    "Dolly zoom",
    "Zoom in",
    "Zoom out",
    "Aerial",
]
AspectRatio = Literal["16:9", "4:3", "1:1", "3:4", "9:16"]
Visibility = Literal["0", "1", "2"]
TryOnModel = Literal["SeedreamTryOn", "NanoBananaProTryOn", "FashnTryOn", "ViduTryOn", "KlingTryOn"]
ImageOption = Literal[
    "Seedream",
    "FluxPro",
    "FluxTurbo",
    "NanoBananaPro",
    "NanoBanana",
    "FluxKontextPro",
    "FluxFinetuned",
    "QwenImage",
    "StableDiffusion3.5",
    "LeonardoImage",
    "GPTImage",
    "Auto",
]
Language = Literal[
    "Arabic", "Chinese", "English", "French", "German", "Hindi", "Japanese", "Korean", "Spanish", "Turkish"
]

Quantity = Annotated[int, Field(ge=1, le=4)]
Duration = Annotated[int, Field(ge=1, le=10)]
Loop = Annotated[int, Field(ge=1, le=6)]
SceneCount = Annotated[int, Field(ge=1, le=10)]
RatioText = Annotated[str, Field(pattern=r"^(\d+):(\d+)$")]


def _json_list(value: str) -> str:
    try:
        parsed = json.loads(value)
    except ValueError:
        raise ValueError("must be a valid JSON string (a list of items)") from None
    if not isinstance(parsed, list):
        raise ValueError("must be a JSON list")
    return value


def _json_object(value: str) -> str:
    try:
        parsed = json.loads(value)
    except ValueError:
        raise ValueError("must be a valid JSON string (an object)") from None
    if not isinstance(parsed, dict):
        raise ValueError("must be a JSON object")
    return value


def _scene_duration(value: int) -> int:
    if value not in (5, 10):
        raise ValueError("scene_duration must be 5 or 10")
    return value


JsonList = Annotated[str, AfterValidator(_json_list)]
JsonObject = Annotated[str, AfterValidator(_json_object)]


class FormBody(BaseModel):
    """Base of form bodies: unknown form fields are ignored, like the API does."""

    model_config = ConfigDict(extra="ignore")


class MediaCreate(FormBody):
    """Body of ``POST /media``."""

    title: str = ""
    description: str = ""
    visibility_status: Visibility = "1"
    image_files: list[str] = []
    image_urls: list[str] = []
    media_items: JsonList | None = None
    prompt: str = ""
    motion_type: MotionType = "Auto"
    camera_control: CameraControl = ""
    quantity: Quantity = 1
    duration: Duration = 5
    loop: Loop = 1
    audio_option: JsonObject | None = None
    character_animate: bool = False
    model: TryOnModel | None = None
    aspect_ratio: AspectRatio | None = None
    webhook_url: str | None = None


class MediaEdit(FormBody):
    """Body of ``PUT /media/{id}`` and ``PUT /media/{id}/edit``: only the given fields change."""

    title: str | None = None
    description: str | None = None
    rating: str | None = None
    visibility_status: Visibility | None = None
    webhook_url: str | None = None
    prompt: str | None = None
    motion_type: MotionType | None = None
    quantity: Quantity | None = None
    duration: Duration | None = None
    loop: Loop | None = None
    camera_control: CameraControl | None = None
    aspect_ratio: AspectRatio | None = None
    audio_option: JsonObject | None = None
    media_items: JsonList | None = None
    model: TryOnModel | None = None


class BatchCreate(FormBody):
    """Body of ``POST /batch``."""

    title: str = ""
    description: str = ""
    visibility_status: Visibility = "1"
    image_files: list[str] = []
    image_urls: list[str] = []
    prompt: str = ""
    motion_type: MotionType = "Auto"
    aspect_ratio: AspectRatio | None = None
    sound_effects: Literal["Yes", "No"] = "No"
    is_transition: bool = False
    quantity: Quantity = 1
    duration: Duration = 5
    loop: Loop = 1
    webhook_url: str | None = None


class BatchEdit(FormBody):
    """Body of ``PUT /batch/{id}/edit``: only the given fields change."""

    title: str | None = None
    description: str | None = None
    rating: str | None = None
    visibility_status: Visibility | None = None
    webhook_url: str | None = None
    prompt: str | None = None
    motion_type: MotionType | None = None
    quantity: Quantity | None = None
    duration: Duration | None = None
    loop: Loop | None = None
    aspect_ratio: AspectRatio | None = None
    sound_effects: Literal["Yes", "No"] | None = None


class IdeaToVideo(FormBody):
    """Body of ``POST /story/idea-2-video`` (JSON or form)."""

    idea: str = Field(min_length=1)
    title: str = ""
    scene_count: SceneCount = 3
    image_tool: Literal["Seedream", "FluxTurbo", "NanoBanana", "QwenImage"] = "Seedream"
    video_tool: Literal["Auto", "KlingAI", "Seedance", "Pixverse", "VeoFast"] = "Auto"
    scene_duration: Annotated[int, AfterValidator(_scene_duration)] = 5
    aspect_ratio: AspectRatio = "16:9"
    is_transition: bool = False
    elements: dict[str, Any] | JsonObject | None = None
    audio_option: dict[str, Any] | str | None = None
    language: Language = "English"
    webhook_url: str = ""


class StoryCreate(FormBody):
    """Body of ``POST /story`` (step 1: storyboard from an idea)."""

    story_id: str | None = None
    idea: str = Field(min_length=1)
    title: str = ""
    scene_count: SceneCount = 3
    language: Language = "English"
    aspect_ratio: AspectRatio | None = None
    audio_option: str | None = None
    elements: JsonObject | None = None
    image_files: list[str] = []
    image_urls: list[str] = []


class StoryElements(FormBody):
    """Body of ``POST /story/{id}/elements``."""

    option: ImageOption = "Seedream"
    aspect_ratio: str | None = None
    storyboard: JsonObject | None = None
    enhance_image: bool = False
    has_bg_music: bool = True


class StoryScenes(FormBody):
    """Body of ``POST /story/{id}/scenes``."""

    option: ImageOption = "Seedream"
    aspect_ratio: str | None = None
    storyboard: JsonObject | None = None
    enhance_image: bool = False
    generate_elements: bool = True
    narrator: str = "Rachel"
    has_narration: bool = True
    has_bg_music: bool = True
    audio_option: JsonObject | None = None


class StoryVideos(FormBody):
    """Body of ``POST /story/{id}/videos``."""

    title: str | None = None
    storyboard: JsonObject | None = None
    is_transition: bool = False
    motion_type: StoryMotionType = "Auto"
    duration: Duration = 5
    loop: Loop = 1
    native_audio: bool = False
    webhook_url: str | None = None


class StoryUpdate(FormBody):
    """Body of ``PUT /story/{id}``."""

    title: str | None = None
    description: str | None = None
    visibility_status: Visibility | None = None
    additional_videos: str | None = None


class StoryConcat(FormBody):
    """Body of ``POST /story/{id}/concat``."""

    concat_video_urls: list[str] = []
    audio_urls: list[str] = []


class V2Request(BaseModel):
    """Fields every v2 video tool takes; other fields are kept as the asset's ``args``."""

    model_config = ConfigDict(extra="allow")

    async_mode: bool = True
    webhook_url: str | None = None


class CropToAspectRatio(V2Request):
    """Body of ``POST /v2/video/crop-to-aspect-ratio``."""

    video_url: str
    aspect_ratio: RatioText = "16:9"
    offset_x: int | None = None
    offset_y: int | None = None


class Reframe(V2Request):
    """Body of ``POST /v2/video/reframe``."""

    video_url: str
    aspect_ratio: RatioText = "16:9"
    prompt: str = "Make it realistic"


class Enhance(V2Request):
    """Body of ``POST /v2/video/enhance``."""

    video_url: str
    enhance_mode: Literal["4X", "2X", "4X&DeepClean", "2X&DeepClean", "DeepClean"] = "4X&DeepClean"
    compression_scale: str = "0.5"


class SoundEffect(V2Request):
    """Body of ``POST /v2/video/sound-effect``."""

    video_url: str
    prompt: str = ""


class AvatarLipSync(V2Request):
    """Body of ``POST /v2/video/avatars/lip-sync``."""

    avatar_id: str = ""
    voice_id: str = ""
    prompt: str = ""
    bg_image_url: str = ""
    audio_url: str = ""
    aspect_ratio: Literal["1:1", "16:9", "9:16"] = "16:9"
    show_caption: Literal["On", "Off"] = "On"


class LipSync(V2Request):
    """Body of ``POST /v2/video/lip-sync``."""

    image_url: str = ""
    video_url: str = ""
    audio_url: str = ""
    prompt: str = ""
    option: Literal[
        "AutoLipSync",
        "SyncLipSync",
        "HummingBird",
        "NewportLipSync",
        "KlingAvatar",
        "PVideo",
        "NewportDreamAvatar",
    ] = "AutoLipSync"
    voice: str = "AutoV"
    video_duration: float | None = None
    audio_duration: float | None = None


class VideoEffects(V2Request):
    """Body of ``POST /v2/video/video-effects``."""

    image_url: str
    ref_image_url: str = ""
    option: Literal[
        "PikaEffects", "KlingEffects", "WanEffects", "ViduEffects", "PixverseEffects", "HiggsfieldEffects"
    ] = "HiggsfieldEffects"
    effect: str = "BulletTime"
    prompt: str = ""
    aspect_ratio: str | None = None
    quantity: Quantity = 1


class ReplaceBackground(V2Request):
    """Body of ``POST /v2/video/replace-background``."""

    video_url: str
    bg_image_url: str = ""
    bg_video_url: str = ""
    chroma_key_color: str = "origin"
    chroma_tolerance: str = "0.1"
    prompt: str = ""
    overlay_scale: str = "0.6666"
    alignment: Literal["center", "left", "right"] = "center"
    start_time: str = "0"
    crop_to_content: bool = True
    x_offset: int = 0
    y_offset: int = 0
    use_rembg_lib: bool = False


class ReferenceToVideo(V2Request):
    """Body of ``POST /v2/video/reference-to-video``."""

    image_urls: list[str] = Field(min_length=1)
    elements: list[Any] | None = None
    aspect_ratio: RatioText = "16:9"
    prompt: str = ""
    option: Literal[
        "AutoR",
        "KlingO",
        "HappyHorse",
        "Grok",
        "SeedanceFast",
        "VeoReference",
        "ViduReference",
        "HeygenAgent",
        "PikaScenes",
        "MinimaxReference",
    ] = "KlingO"
    quantity: Quantity = 1
    duration: int = Field(default=5, ge=1, le=30)


class VideoToVideo(V2Request):
    """Body of ``POST /v2/video/video-to-video``."""

    video_url: str
    image_url: str = ""
    prompt: str = ""
    option: Literal["KlingO", "HappyHorse", "Grok", "SeedanceFast", "LumaModify"] = "KlingO"


class AttachAudio(V2Request):
    """Body of ``POST /v2/video/audio``."""

    video_url: str
    audio_url: str
    attach_mode: Literal["MatchVideo", "PadAudio", "MatchAudio", "SpeedAdjust", "Strict"] = "MatchVideo"
    video_duration: float | None = None
    audio_duration: float | None = None


V2_TOOL_BODIES: dict[str, type[V2Request]] = {
    "crop-to-aspect-ratio": CropToAspectRatio,
    "reframe": Reframe,
    "enhance": Enhance,
    "sound-effect": SoundEffect,
    "avatars/lip-sync": AvatarLipSync,
    "lip-sync": LipSync,
    "video-effects": VideoEffects,
    "replace-background": ReplaceBackground,
    "reference-to-video": ReferenceToVideo,
    "video-to-video": VideoToVideo,
    "audio": AttachAudio,
}


class EstimateCredits(BaseModel):
    """Body of ``POST /v2/video/estimate-credits``."""

    model_config = ConfigDict(extra="ignore")

    app_name: str = "reference-to-video"
    option: str
    quantity: Quantity = 1
    prompt: str = ""
    duration: int | None = Field(default=None, ge=1)
    video_duration: float | None = Field(default=None, ge=0)


# Legacy image, audio and text tools (form bodies; file fields hold the uploaded file names)

ImageAspectRatio = Literal["21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"]
TextToImageOption = Literal[
    "Seedream",
    "FluxPro",
    "FluxTurbo",
    "NanoBananaPro",
    "NanoBanana",
    "FluxKontextPro",
    "FluxFinetuned",
    "QwenImage",
    "StableDiffusion3.5",
    "LeonardoImage",
    "GPTImage",
    "Auto",
    "Flux1",
    "Flux1.1Pro",
    "Flux1.1ProUltra",
]
ImageToImageOption = Literal[
    "Seedream",
    "FluxPro",
    "FluxTurbo",
    "ImageUtilsDepth",
    "NanoBananaPro",
    "NanoBanana",
    "FluxKontextPro",
    "QwenImage",
    "FluxKontextFinetuned",
    "Remake",
    "StableDiffusion3.5",
    "LeonardoImage",
    "Sketch",
    "Restructure",
    "Review",
    "GPTImage",
    "Auto",
    "Restyle",
    "ReplaceWith",
    "RecolorTo",
]
EditImageOption = Literal[
    "RemoveText",
    "Upscale",
    "LumaReframe",
    "Inpaint",
    "ExpandToAspectRatio",
    "RemoveBackground",
    "ReplaceBackground",
    "RestyleBackground",
]
Narrator = Literal[
    "Rachel",
    "Aria",
    "Roger",
    "Sarah",
    "Laura",
    "Charlie",
    "George",
    "Callum",
    "River",
    "Liam",
    "Charlotte",
    "Alice",
    "Matilda",
    "Will",
    "Jessica",
    "Eric",
    "Chris",
    "Brian",
    "Daniel",
    "Lily",
    "Bill",
]
Strength = Annotated[int, Field(ge=1, le=10)]


class TextToImage(FormBody):
    """Body of ``POST /image/text-2-image`` (form or JSON)."""

    prompt: str = "Shot of Nike shoes on colorful background"
    quantity: Quantity = 1
    option: TextToImageOption = "Auto"
    aspect_ratio: ImageAspectRatio = "16:9"
    creativity_strength: Strength = 5
    enhance_image: bool = False
    async_mode: bool = False
    webhook_url: str | None = None


class ImageToImage(FormBody):
    """Body of ``POST /image/image-2-image``."""

    image_file: list[str] = []
    image_url: str = ""
    prompt: str = ""
    creativity_strength: Strength = 5
    aspect_ratio: RatioText | None = None
    quantity: Quantity = 1
    option: ImageToImageOption = "FluxKontextPro"
    enhance_image: bool = False
    async_mode: bool = False
    webhook_url: str | None = None


class Reimagine(FormBody):
    """Body of ``POST /image/reimagine`` (legacy reference only)."""

    image_file: list[str] = []
    image_url: str = ""
    image2_file: list[str] = []
    image2_url: str = ""
    option: Literal["Remake", "TryOn"] = "Remake"
    prompt: str = ""
    aspect_ratio: RatioText | None = None
    creativity_strength: Strength = 5


class EditImage(FormBody):
    """Body of ``POST /image/edit-image``."""

    image_file: list[str] = []
    image_url: str = ""
    mask_file: list[str] = []
    mask_url: str = ""
    image2_file: list[str] = []
    image2_url: str = ""
    option: EditImageOption = "RemoveText"
    reframe_parameters: JsonObject | None = None
    aspect_ratio: RatioText = "16:9"
    prompt: str = ""
    expand_method: Literal["Outpaint", "Pad"] = "Outpaint"
    expand_direction: Literal["center", "top/left", "bottom/right"] = "center"
    quantity: Quantity = 1
    async_mode: bool = False
    webhook_url: str | None = None


class TextPrompt(FormBody):
    """Body of ``POST /text/prompt``."""

    image_file: list[str] = []
    image_url: str = ""
    image2_file: list[str] = []
    image2_url: str = ""
    video_file: list[str] = []
    video_url: str = ""
    prompt: str = ""
    mode: str = "scene"
    option: Literal["Image2Prompt", "SuggestPrompt", "RefinePrompt", "InspireMe"] = "InspireMe"


class TextToSpeech(FormBody):
    """Body of ``POST /audio/text-2-speech``."""

    prompt: str = ""
    voice: Narrator = "Rachel"
    option: Literal["", "ElevenLabsTTS", "ChirpTTS"] = ""
    language: str = ""


class TextToSoundEffect(FormBody):
    """Body of ``POST /audio/text-2-sound-effect``."""

    prompt: str = ""
    duration: int = Field(default=5, ge=1, le=30)


LEGACY_TOOL_BODIES: dict[str, type[FormBody]] = {
    "/image/text-2-image": TextToImage,
    "/image/image-2-image": ImageToImage,
    "/image/reimagine": Reimagine,
    "/image/edit-image": EditImage,
    "/text/prompt": TextPrompt,
    "/audio/text-2-speech": TextToSpeech,
    "/audio/text-2-sound-effect": TextToSoundEffect,
}
