# RNN Playground in a container: `docker build -t rnn-playground . && docker run -p 7860:7860 rnn-playground`
# The serving process imports no TensorFlow, but requirements.txt keeps it (training and evaluation).
FROM python:3.11-slim

ENV GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    GRADIO_ANALYTICS_ENABLED=False \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 1000 app
WORKDIR /home/app/rnn-playground

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=app:app . .
USER app

EXPOSE 7860
CMD ["python", "app.py"]
